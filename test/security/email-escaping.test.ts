import { buildFailureEmail } from '../../activities/bulk-update/failure-email';
import { renderExportEmail } from '../../activities/offline-export/email';

// User-controlled text in both emails: the recipient's name (users.name), project and group names and full paths,
// and error messages (which quote names). HTML must come out escaped, never as tags or attributes, and a CR/LF in
// a name must not forge lines. Subjects are fixed strings; the recipient's name goes into the To header only
// through nodemailer's address object with CR/LF removed (activities/bulk-update/notify.ts), and the export email
// puts no user text in a header at all. (Rendered-level test; email-e2e.test.ts runs both flows end to end and
// checks the messages maildev received.)

const HOSTILE_NAME = `Eve "<script>alert('x')</script>" <img src=x onerror=alert(1)>\r\nBcc: victim@example.test`;
const HOSTILE_ERROR = `Attribute <b onmouseover="steal()">Payments</b> & 'quotes' failed\r\nX-Injected: yes`;
const RAW_TAGS = /<(script|img|b |iframe)/i; // a raw tag; escaped text such as &lt;img onerror=...&gt; is harmless

describe('email escaping', () => {
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

  it('escapes names, paths and error messages in the bulk-operation failure report, and keeps text lines whole', () => {
    const email = buildFailureEmail({
      operationType: 'attribute_update',
      recipientName: HOSTILE_NAME,
      totalItems: 2,
      successfulItems: 0,
      failedItems: 2,
      instanceBaseUrl: 'http://gitlab.example.test',
      items: [
        { entityId: 1, entityType: 'Project', entityName: HOSTILE_NAME, entityFullPath: 'grp/"><script>x</script>', errorMessage: HOSTILE_ERROR },
        { entityId: 2, entityType: 'Project', entityName: null, entityFullPath: null, errorMessage: '<iframe src=javascript:alert(1)>' },
      ],
    });
    expect(email.subject).toBe('Bulk operation failed: Attribute update');
    expect(email.html).not.toMatch(RAW_TAGS);
    expect(email.html).not.toContain('<iframe');
    expect(email.html).toContain('&lt;b onmouseover=&quot;steal()&quot;&gt;Payments&lt;/b&gt; &amp; &#39;quotes&#39;');
    expect(email.html).toContain('href="http://gitlab.example.test/grp/%22%3E%3Cscript%3Ex%3C/script%3E"');
    // No forged line: the CR/LF in a name or message never starts a line of its own in the text part.
    expect(email.text.split('\n').some((line) => /^(Bcc|X-Injected):/.test(line))).toBe(false);
  });
});
