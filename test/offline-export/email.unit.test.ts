import { maskHostname, renderExportEmail } from '../../activities/offline-export/email';

// Notify.offline_export_complete / offline_export_failed (gitlab-behaviour.md §A.1), rendered: the subjects, the
// paragraphs of both parts, the source masked, and user-controlled text (the recipient's name) escaped in HTML and
// kept on one line in the text part. test/security/email-e2e.test.ts checks what maildev receives end to end.

const HOSTILE_NAME = `Eve "<script>alert('x')</script>" <img src=x onerror=alert(1)>\r\nBcc: victim@example.test`;
const RAW_TAGS = /<(script|img|b |iframe)/i; // a raw tag; escaped text such as &lt;img onerror=...&gt; is harmless

const input = (overrides: Partial<Parameters<typeof renderExportEmail>[0]> = {}) => ({
  finished: true,
  name: 'Ada Lovelace',
  sourceHostname: 'https://gitlab.example.test',
  startedAt: new Date('2026-01-02T03:04:05.678Z'),
  exportPrefix: '2026-01-02_03-04-05_export_AbCdEfGh',
  ...overrides,
});

describe('renderExportEmail', () => {
  it('renders "Offline export complete"', () => {
    const email = renderExportEmail(input());
    expect(email.subject).toBe('Offline export complete');
    expect(email.text).toBe(
      [
        'Hi Ada Lovelace!',
        'Export complete',
        'Your offline export from https://gitlab.example.test, started on 2026-01-02 03:04 UTC, is complete.',
        'The exported files are under the prefix 2026-01-02_03-04-05_export_AbCdEfGh in the configured object storage bucket.',
      ].join('\n\n') + '\n',
    );
    expect(email.html).toBe(
      [
        '<p>Hi Ada Lovelace!</p>',
        '<h1>Export complete</h1>',
        '<p>Your offline export from https://gitlab.example.test, started on 2026-01-02 03:04 UTC, is complete.</p>',
        '<p>The exported files are under the prefix 2026-01-02_03-04-05_export_AbCdEfGh in the configured object storage bucket.</p>',
      ].join('\n'),
    );
  });

  it('renders "Offline export failed", telling the user the files can go and how to try again', () => {
    const email = renderExportEmail(input({ finished: false }));
    expect(email.subject).toBe('Offline export failed');
    expect(email.text).toBe(
      [
        'Hi Ada Lovelace!',
        'Export failed',
        'Your offline export from https://gitlab.example.test, started on 2026-01-02 03:04 UTC, failed.',
        'Files were written under the prefix 2026-01-02_03-04-05_export_AbCdEfGh. You can safely delete any files found at that path.',
        'To try again, start a new export from your source GitLab instance.',
      ].join('\n\n') + '\n',
    );
    expect(email.html.split('\n')).toEqual([
      '<p>Hi Ada Lovelace!</p>',
      '<h1>Export failed</h1>',
      '<p>Your offline export from https://gitlab.example.test, started on 2026-01-02 03:04 UTC, failed.</p>',
      '<p>Files were written under the prefix 2026-01-02_03-04-05_export_AbCdEfGh. You can safely delete any files found at that path.</p>',
      '<p>To try again, start a new export from your source GitLab instance.</p>',
    ]);
  });

  it('gives the start time in UTC to the minute, whatever the time zone of the worker', () => {
    expect(renderExportEmail(input({ startedAt: new Date('2025-12-31T23:59:59.999Z') })).text).toContain(
      'started on 2025-12-31 23:59 UTC,',
    );
    expect(renderExportEmail(input({ startedAt: new Date('2026-06-15T12:00:00+02:00') })).text).toContain(
      'started on 2026-06-15 10:00 UTC,',
    );
  });

  it('escapes names in the offline export complete and failed emails', () => {
    for (const finished of [true, false]) {
      const email = renderExportEmail({
        finished,
        name: HOSTILE_NAME,
        sourceHostname: 'https://user:secret@gitlab.example.test',
        startedAt: new Date('2026-01-02T03:04:05Z'),
        exportPrefix: '2026-01-02_03-04-05_export_AbCdEfGh',
      });
      expect(email.subject).toBe(finished ? 'Offline export complete' : 'Offline export failed');
      expect(email.html).not.toMatch(RAW_TAGS);
      expect(email.html).toContain('&lt;script&gt;');
      expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(email.html).toContain('&quot;');
      expect(email.html).not.toContain('secret');
      expect(email.text).not.toContain('secret');
    }
  });

  it('escapes & < > " in the HTML part, and keeps the text part on its lines', () => {
    const email = renderExportEmail(input({ name: 'Tom & "Jerry" <tj>', exportPrefix: 'p<&>' }));
    expect(email.html).toContain('<p>Hi Tom &amp; &quot;Jerry&quot; &lt;tj&gt;!</p>');
    expect(email.html).toContain('the prefix p&lt;&amp;&gt; in');
    expect(email.text).toContain('Hi Tom & "Jerry" <tj>!');

    const forged = renderExportEmail(input({ name: 'Mallory\r\n\r\nBcc: victim@example.test\nX: y' }));
    expect(forged.text.split('\n')[0]).toBe('Hi Mallory Bcc: victim@example.test X: y!');
    expect(forged.text.split('\n').some((line) => /^(Bcc|X):/.test(line))).toBe(false);
  });
});

describe('maskHostname', () => {
  it('masks user info in the source URL the way GitLab shows it', () => {
    expect(maskHostname('https://user:secret@gitlab.example.test')).toBe('https://*****:*****@gitlab.example.test');
    expect(maskHostname('https://token@gitlab.example.test:8443/sub')).toBe(
      'https://*****:*****@gitlab.example.test:8443/sub',
    );
    expect(maskHostname('https://:pw@gitlab.example.test')).toBe('https://*****:*****@gitlab.example.test');
  });

  it('leaves a URL without user info alone, even with an @ in its path', () => {
    expect(maskHostname('https://gitlab.example.test')).toBe('https://gitlab.example.test');
    expect(maskHostname('https://gitlab.example.test/group/@user')).toBe('https://gitlab.example.test/group/@user');
  });
});
