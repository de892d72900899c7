import {
  buildFailureEmail,
  entityUrl,
  escapeHtml,
  humanizeOperationType,
  type FailureEmailInput,
  type FailureEmailItem,
} from '../../activities/bulk-update/failure-email';

// Security::BackgroundOperationMailer#failure_notification (gitlab-behaviour.md §B.4), rendered. Names, paths and
// error messages come from users, so HTML must come out escaped, never as tags or attributes, and a CR/LF in a name
// must not forge lines. The subject is built from the operation type only; the recipient's name goes into the To
// header only through nodemailer's address object with CR/LF removed (notify.ts). test/security/email-e2e.test.ts
// checks what maildev receives end to end.

const HOSTILE_NAME = `Eve "<script>alert('x')</script>" <img src=x onerror=alert(1)>\r\nBcc: victim@example.test`;
const HOSTILE_ERROR = `Attribute <b onmouseover="steal()">Payments</b> & 'quotes' failed\r\nX-Injected: yes`;
const RAW_TAGS = /<(script|img|b |iframe)/i; // a raw tag; escaped text such as &lt;img onerror=...&gt; is harmless

const project = (entityId: number, overrides: Partial<FailureEmailItem> = {}): FailureEmailItem => ({
  entityId,
  entityType: 'Project',
  entityName: `Project ${entityId}`,
  entityFullPath: `acme/project-${entityId}`,
  errorMessage: 'You are not authorized to perform this action',
  ...overrides,
});

const input = (overrides: Partial<FailureEmailInput> = {}): FailureEmailInput => ({
  operationType: 'attribute_update',
  recipientName: 'Ada',
  totalItems: 10,
  successfulItems: 7,
  failedItems: 3,
  items: [
    project(1),
    project(2, { errorMessage: 'Too many attributes', errorDetails: ['Cannot exceed 20 attributes per project'] }),
  ],
  instanceBaseUrl: 'https://gitlab.example.test',
  ...overrides,
});

describe('buildFailureEmail', () => {
  it('is "Bulk operation failed: <Operation type>", with a greeting and the summary counts in both parts', () => {
    const email = buildFailureEmail(input());
    expect(email.subject).toBe('Bulk operation failed: Attribute update');
    expect(email.text).toBe(
      [
        'Hi Ada!',
        '',
        'Your bulk attribute update operation completed with errors.',
        '',
        'Summary:',
        'Total items: 10',
        'Successful: 7',
        'Failed: 3',
        '',
        'Failed Projects:',
        '- Project 1 (https://gitlab.example.test/acme/project-1) - You are not authorized to perform this action',
        '- Project 2 (https://gitlab.example.test/acme/project-2) - Too many attributes',
        '    - Cannot exceed 20 attributes per project',
        '',
      ].join('\n'),
    );
    expect(email.html).toContain('<title>Bulk operation failed: Attribute update</title>');
    expect(email.html).toContain('<h1 style="font-size: 20px;">Hi Ada!</h1>');
    expect(email.html).toContain('<p>Your bulk attribute update operation completed with errors.</p>');
    expect(email.html).toContain('<li>Total items: 10</li>');
    expect(email.html).toContain('<li style="color: #108548;">Successful: 7</li>');
    expect(email.html).toContain('<li style="color: #dd2b0e;">Failed: 3</li>');
    expect(email.html).toContain('<p><strong>Failed Projects:</strong></p>');
    expect(email.html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(email.html.trimEnd().endsWith('</body></html>')).toBe(true);
  });

  it('links each failed item to its page, with its name as the text, followed by its error', () => {
    const { html } = buildFailureEmail(input());
    expect(html).toContain(
      '<li><strong><a href="https://gitlab.example.test/acme/project-1">Project 1</a></strong> - You are not authorized to perform this action</li>',
    );
    // GitLab's message, then the reasons it gave (its payload errors) listed under it.
    expect(html).toContain(
      '<li><strong><a href="https://gitlab.example.test/acme/project-2">Project 2</a></strong> - Too many attributes<ul><li>Cannot exceed 20 attributes per project</li></ul></li>',
    );
    // Items in the order given (the store's order).
    expect(html.indexOf('project-1')).toBeLessThan(html.indexOf('project-2'));
  });

  it('falls back to the full path when the name is missing, and to "<Type> ID <id>" without a link when the path is', () => {
    const email = buildFailureEmail(
      input({
        items: [
          project(5, { entityName: null }),
          project(6, { entityName: '', entityFullPath: 'acme/six' }),
          project(7, { entityName: null, entityFullPath: null, errorMessage: 'Project not found' }),
        ],
      }),
    );
    expect(email.html).toContain('<a href="https://gitlab.example.test/acme/project-5">acme/project-5</a>');
    expect(email.html).toContain('<a href="https://gitlab.example.test/acme/six">acme/six</a>');
    expect(email.html).toContain('<li><strong>Project ID 7</strong> - Project not found</li>');
    expect(email.text).toContain(
      '- acme/project-5 (https://gitlab.example.test/acme/project-5) - You are not authorized to perform this action',
    );
    expect(email.text).toContain('- Project ID 7 - Project not found');
  });

  it('heads the list "Failed Groups:" when the first item is a group', () => {
    const group: FailureEmailItem = {
      entityId: 9,
      entityType: 'Group',
      entityName: 'Acme',
      entityFullPath: 'acme',
      errorMessage: 'x',
    };
    expect(buildFailureEmail(input({ items: [group, project(1)] })).html).toContain(
      '<p><strong>Failed Groups:</strong></p>',
    );
    expect(buildFailureEmail(input({ items: [group] })).text).toContain('\nFailed Groups:\n');
    expect(buildFailureEmail(input({ items: [project(1), group] })).text).toContain('\nFailed Projects:\n');
    const unnamed = buildFailureEmail(input({ items: [{ ...group, entityName: null, entityFullPath: null }] }));
    expect(unnamed.html).toContain('<strong>Group ID 9</strong>');
  });

  it('renders an empty list (failures only counted) without breaking', () => {
    const email = buildFailureEmail(input({ items: [], failedItems: 2 }));
    expect(email.text).toContain('Failed: 2\n\nFailed Projects:\n');
    expect(email.html).toContain('<p><strong>Failed Projects:</strong></p>\n<ul>\n</ul>');
  });

  it('escapes names, paths and error messages in the bulk-operation failure report, and keeps text lines whole', () => {
    const email = buildFailureEmail({
      operationType: 'attribute_update',
      recipientName: HOSTILE_NAME,
      totalItems: 2,
      successfulItems: 0,
      failedItems: 2,
      instanceBaseUrl: 'http://gitlab.example.test',
      items: [
        {
          entityId: 1,
          entityType: 'Project',
          entityName: HOSTILE_NAME,
          entityFullPath: 'grp/"><script>x</script>',
          errorMessage: HOSTILE_ERROR,
          errorDetails: [HOSTILE_ERROR, '<img src=x onerror=alert(2)>'],
        },
        {
          entityId: 2,
          entityType: 'Project',
          entityName: null,
          entityFullPath: null,
          errorMessage: '<iframe src=javascript:alert(1)>',
        },
      ],
    });
    expect(email.subject).toBe('Bulk operation failed: Attribute update');
    expect(email.html).not.toMatch(RAW_TAGS);
    expect(email.html).not.toContain('<iframe');
    expect(email.html).toContain('&lt;b onmouseover=&quot;steal()&quot;&gt;Payments&lt;/b&gt; &amp; &#39;quotes&#39;');
    expect(email.html).toContain('<li>&lt;img src=x onerror=alert(2)&gt;</li>');
    expect(email.html).toContain('href="http://gitlab.example.test/grp/%22%3E%3Cscript%3Ex%3C/script%3E"');
    // No forged line: the CR/LF in a name or message never starts a line of its own in the text part.
    expect(email.text.split('\n').some((line) => /^(Bcc|X-Injected):/.test(line))).toBe(false);
  });

  it('puts tabs and line breaks of user text on one line in the text part', () => {
    const email = buildFailureEmail(
      input({
        recipientName: 'Ada\r\nLovelace',
        items: [project(1, { entityName: 'a\tb\n\nc', errorMessage: 'first\nsecond' })],
      }),
    );
    expect(email.text.split('\n')[0]).toBe('Hi Ada Lovelace!');
    expect(email.text).toContain('- a b c (https://gitlab.example.test/acme/project-1) - first second\n');
  });

  it('names the operation in the subject and body', () => {
    expect(buildFailureEmail(input({ operationType: 'profile_detach' })).subject).toBe(
      'Bulk operation failed: Profile detach',
    );
    expect(buildFailureEmail(input({ operationType: 'profile_detach' })).text).toContain(
      'Your bulk profile detach operation completed',
    );
  });
});

describe('humanizeOperationType', () => {
  it.each([
    ['attribute_update', 'Attribute update'],
    ['profile_attach', 'Profile attach'],
    ['profile_detach', 'Profile detach'],
    ['unknown_operation', 'Unknown operation'],
    ['SCAN_PROFILE_UPDATE', 'Scan profile update'],
    ['single', 'Single'],
    ['', 'Operation'],
    ['___', 'Operation'],
  ])('%j -> %j', (type, name) => {
    expect(humanizeOperationType(type)).toBe(name);
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-special characters, ampersands first', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
    expect(escapeHtml('plain text, ünïcödé 🚀')).toBe('plain text, ünïcödé 🚀');
  });
});

describe('entityUrl', () => {
  it('joins the instance URL and the full path, one slash between them', () => {
    expect(entityUrl('https://gitlab.example.test', 'acme/app')).toBe('https://gitlab.example.test/acme/app');
    expect(entityUrl('https://gitlab.example.test///', 'acme/app')).toBe('https://gitlab.example.test/acme/app');
    expect(entityUrl('https://example.test/gitlab/', 'acme/app')).toBe('https://example.test/gitlab/acme/app');
  });

  it('percent-encodes each path segment, so a path can only be a path', () => {
    expect(entityUrl('https://g.test', 'acme/my app/x?y#z')).toBe('https://g.test/acme/my%20app/x%3Fy%23z');
    expect(entityUrl('https://g.test', '/acme//sub/')).toBe('https://g.test/acme/sub');
    expect(entityUrl('https://g.test', 'javascript:alert(1)')).toBe('https://g.test/javascript%3Aalert(1)');
  });
});
