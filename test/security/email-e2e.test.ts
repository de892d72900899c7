import { randomBytes } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { AccessLevel } from '../../db/access';
import { OFFLINE_EXPORT_WORKFLOW, offlineExportWorkflowId } from '../../workflows/offline-export/definitions';
import { attributeId, createUser, groupId, linksOf, projectsUnder } from '../bulk-update/support/instance';
import { allMail, waitForOperationMail, type ReceivedMail } from '../bulk-update/support/mail';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { insertExport, waitFor } from '../offline-export/fixture';

// Email escaping end to end: hostile names and error text go through the real workflows, the real worker and
// nodemailer to maildev, and the message as the SMTP server received it is checked (the renderers alone are
// covered by email-escaping.test.ts).

const hostile = (tag: string) => `Eve "<script>alert('${tag}')</script>" <img src=x onerror=alert(1)>\r\nBcc: victim@example.test\r\nX-Injected: yes`;
const RAW_TAGS = /<(script|img)[\s>]/i;

function expectClean(mail: ReceivedMail, recipient: string) {
  expect(mail.html).not.toMatch(RAW_TAGS);
  expect(mail.html).toContain('&lt;script&gt;');
  // One recipient, the user; no header forged from a CR/LF in a name.
  expect([...mail.to.map((t) => t.address), ...((mail as { cc?: { address: string }[] }).cc ?? []).map((t) => t.address)]).toEqual([recipient]);
  expect(Object.keys(mail.headers).map((h) => h.toLowerCase())).not.toEqual(expect.arrayContaining(['bcc']));
  expect(Object.keys(mail.headers).map((h) => h.toLowerCase())).not.toContain('x-injected');
  expect(JSON.stringify(mail.headers)).not.toContain('victim@example.test');
}

describe('email escaping, end to end through maildev', () => {
  let tw: TestWorker;
  beforeAll(async () => {
    tw = await startTestWorker('email-e2e', { EXPORT_CREDENTIALS_PURGE_DELAY_MS: 500 });
  });
  afterAll(async () => tw?.close());

  it('the offline export email to a user with a hostile name', async () => {
    const { sql, config } = { sql: tw.deps.sql, config: tw.config };
    const [flight] = await sql<{ id: number }[]>`select source_id as id from routes where path = 'flightjs/Flight' and source_type = 'Project'`;
    const username = `mail-export-${randomBytes(3).toString('hex')}`;
    const userId = await createUser(sql, username, [{ sourceType: 'Project', sourceId: flight!.id, level: AccessLevel.MAINTAINER }], hostile('export'));
    const { exportId, exportPrefix } = await insertExport(sql, config, userId, ['flightjs/Flight']);
    await tw.run(async () => {
      const handle = await tw.client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
        workflowId: offlineExportWorkflowId(exportId),
        taskQueue: tw.taskQueue,
        args: [{ exportId }],
      });
      await handle.result();
    });
    const mails = await waitFor(async () => {
      const found = (await allMail()).filter((m) => m.to.some((t) => t.address === `${username}@example.test`) && m.text.includes(exportPrefix));
      return found.length > 0 ? found : undefined;
    });
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Offline export complete');
    expectClean(mails[0]!, `${username}@example.test`);
  }, 120_000);

  it('the bulk-update failure report with hostile recipient, project names and paths', async () => {
    const { sql } = tw.deps;
    const org2 = await groupId(sql, 'org-2');
    const internetFacing = await attributeId(sql, 'org-2', 'Internet facing');
    const internal = await attributeId(sql, 'org-2', 'Internal');
    // A project that will fail (it holds 'Internal', in the same single-selection category), renamed for the test.
    const projects = await projectsUnder(sql, org2);
    const links = await linksOf(sql, projects);
    const failing = projects.find((id) => links.get(id)!.includes(internal))!;
    const [original] = await sql<{ name: string }[]>`select name from projects where id = ${failing}`;
    const username = `mail-bulk-${randomBytes(3).toString('hex')}`;
    const userId = await createUser(sql, username, [{ sourceType: 'Namespace', sourceId: org2, level: AccessLevel.MAINTAINER }], hostile('recipient'));
    await sql`update projects set name = ${hostile('project')} where id = ${failing}`;
    try {
      const started = await startBulkUpdate(
        { sql, client: tw.client, taskQueue: tw.taskQueue },
        { userId, groupIds: [], projectIds: [failing], attributeIds: [internetFacing], mode: 'ADD' },
      );
      await tw.run(() => tw.client.workflow.getHandle(started.workflowId).result());
      const mails = await waitForOperationMail(started.operationId);
      expect(mails).toHaveLength(1);
      const mail = mails[0]!;
      expect(mail.subject).toBe('Bulk operation failed: Attribute update');
      expectClean(mail, `${username}@example.test`);
      // The failed project is listed, by its escaped name; the text part keeps the CR/LF from making lines.
      expect(mail.html).toContain('Eve &quot;&lt;script&gt;alert(');
      expect(mail.text.split('\n').some((line) => /^\s*Bcc: victim@example\.test/.test(line))).toBe(false);
    } finally {
      await sql`update projects set name = ${original!.name} where id = ${failing}`;
    }
  }, 120_000);
});
