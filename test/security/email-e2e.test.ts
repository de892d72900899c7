import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { AccessLevel } from '../../db/access';
import type { Sql } from '../../db/sql';
import type { BulkUpdateWorkflow } from '../../workflows/bulk-update/bulk-update.workflow';
import {
  OFFLINE_EXPORT_WORKFLOW,
  offlineExportWorkflowId,
  type OfflineExportResult,
} from '../../contracts/offline-export';
import { loadConfig } from '../../contracts/config';
import { createUser } from '../bulk-update/support/instance';
import { allMail, waitForOperationMail, type ReceivedMail } from '../helpers/mail';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { insertExport, listKeys } from '../offline-export/fixture';
import { createStackS3Client } from '../../worker/deps';
import { waitFor } from '../helpers/wait';

// Email escaping end to end: hostile user names, group and project names and paths, and an error message that
// quotes a hostile category name go through the real workflows, the real worker and nodemailer to maildev, and the
// messages are checked as the SMTP server received them: the parsed message, the SMTP envelope and the raw
// source. The renderers alone are covered by email-escaping.test.ts. Every row the test needs is its own (a root
// group of its own, its projects, category, attributes and users), and is deleted afterwards.

const hostile = (tag: string) =>
  `Eve "<script>alert('${tag}')</script>" <img src=x onerror=alert(1)>\r\nBcc: victim@example.test\r\nX-Injected: yes`;

/** What maildev keeps of a message beyond the fields the bulk-update tests read. */
interface Received extends ReceivedMail {
  cc?: { address: string }[];
  bcc?: { address: string }[];
  calculatedBcc?: { address: string }[];
  envelope: { from: { address: string }; to: { address: string }[] };
}

async function rawSource(mail: ReceivedMail): Promise<string> {
  const res = await fetch(
    `http://127.0.0.1:${loadConfig().MAILDEV_WEB_PORT}/api/email/${encodeURIComponent(mail.id)}/source`,
  );
  if (!res.ok) throw new Error(`maildev answered ${res.status} for the source of ${mail.id}`);
  return res.text();
}

/** The header block of a raw message as [lower-case name, unfolded value] pairs, in order. */
function rawHeaders(source: string): [string, string][] {
  const block = source.split(/\r?\n\r?\n/)[0]!;
  return block
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as [string, string];
    });
}

/**
 * Every tag in an HTML document, with its attribute names. Escaped text holds no '<', so every '<' must open one
 * of these tags (checked here too).
 */
function tagsOf(html: string): { name: string; attributes: string[] }[] {
  const tags = [...html.matchAll(/<\/?([!a-z][a-z0-9]*)([^<>]*)>/gi)].map((m) => ({
    name: m[1]!.toLowerCase(),
    attributes: [...m[2]!.matchAll(/([^\s=/"']+)\s*=/g)].map((a) => a[1]!.toLowerCase()),
  }));
  expect(html.split('<').length - 1).toBe(tags.length);
  return tags;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** The text a browser would show for an HTML fragment: tags dropped, entities decoded once, whitespace folded. */
function shownText(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, e: string) => {
      if (e[0] === '#')
        return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
      return ENTITIES[e.toLowerCase()] ?? whole;
    })
    .replace(/\s+/g, ' ');
}
const folded = (s: string) => s.replace(/\s+/g, ' ');

/**
 * Addressed to the user alone, with no header forged from a name: one To address, the same single SMTP
 * recipient, no Cc or Bcc, and exactly the headers the mailer writes.
 */
async function expectOnlyToUser(mail: Received, address: string, expectedHeaders: string[]) {
  expect(mail.to.map((t) => t.address)).toEqual([address]);
  expect(mail.envelope.to.map((t) => t.address)).toEqual([address]);
  expect(mail.cc ?? []).toEqual([]);
  expect(mail.bcc ?? []).toEqual([]);
  expect(mail.calculatedBcc ?? []).toEqual([]);
  const headers = rawHeaders(await rawSource(mail));
  expect(headers.map(([name]) => name).sort()).toEqual([...expectedHeaders].sort());
  // The one header that carries user text (the To display name) still holds exactly one address.
  const to = headers.filter(([name]) => name === 'to').map(([, value]) => value);
  expect(to).toHaveLength(1);
  expect(to[0] === address || to[0]!.endsWith(`<${address}>`) ? address : to[0]).toBe(address);
}

function expectNoForgedTextLines(text: string) {
  for (const line of text.split(/\r?\n/)) expect(line).not.toMatch(/^\s*(bcc|cc|to|x-injected)\s*:/i);
}

interface OwnGroup {
  id: number;
  path: string;
}

async function createRootGroup(sql: Sql, path: string, name: string): Promise<OwnGroup> {
  const [row] = await sql<
    { id: number }[]
  >`insert into namespaces (name, path, visibility_level) values (${name}, ${path}, 0) returning id`;
  await sql`update namespaces set traversal_ids = array[id] where id = ${row!.id}`;
  await sql`insert into routes (source_id, source_type, path, name) values (${row!.id}, 'Namespace', ${path}, ${name})`;
  return { id: row!.id, path };
}

async function createProject(
  sql: Sql,
  group: OwnGroup,
  path: string,
  name: string,
): Promise<{ id: number; fullPath: string; name: string }> {
  const [row] = await sql<{ id: number }[]>`
    insert into projects (name, path, namespace_id, visibility_level) values (${name}, ${path}, ${group.id}, 0) returning id`;
  const fullPath = `${group.path}/${path}`;
  await sql`insert into routes (source_id, source_type, path, name) values (${row!.id}, 'Project', ${fullPath}, ${name})`;
  return { id: row!.id, fullPath, name };
}

/** Removes a root group of ours with everything in it (projects, categories, attributes, links cascade). */
async function dropRootGroup(sql: Sql, group: OwnGroup | undefined) {
  if (!group) return;
  await sql`
    delete from routes
    where (source_type = 'Namespace' and source_id = ${group.id})
       or (source_type = 'Project' and source_id in (select id from projects where namespace_id = ${group.id}))`;
  await sql`delete from feature_flag_actors where actor_type = 'Group' and actor_id = ${group.id}`;
  await sql`delete from namespaces where id = ${group.id}`;
}

describe('email escaping, end to end through maildev', () => {
  let tw: TestWorker;
  beforeAll(async () => {
    tw = await startTestWorker('email-e2e', { EXPORT_CREDENTIALS_PURGE_DELAY_MS: 500 });
  });
  afterAll(async () => tw?.close());

  it('the offline export email to a group owner with a hostile name', async () => {
    const { sql } = tw.deps;
    const config = tw.config;
    const suffix = randomBytes(4).toString('hex');
    const username = `mail-export-${suffix}`;
    const address = `${username}@example.test`;
    const userName = hostile('export');
    let group: OwnGroup | undefined;
    let userId: number | undefined;
    let exportPrefix: string | undefined;
    try {
      group = await createRootGroup(sql, `email-e2e-export-${suffix}`, hostile('group'));
      userId = await createUser(
        sql,
        username,
        [{ sourceType: 'Namespace', sourceId: group.id, level: AccessLevel.OWNER }],
        userName,
      );
      const created = await insertExport(sql, config, userId, [group.path]);
      exportPrefix = created.exportPrefix;
      const result = await tw.run(async () => {
        const handle = await tw.client.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
          workflowId: offlineExportWorkflowId(created.exportId),
          taskQueue: tw.taskQueue,
          args: [{ exportId: created.exportId }],
        });
        return (await handle.result()) as OfflineExportResult;
      });
      expect(result).toMatchObject({ exportId: created.exportId, status: 'finished', hasFailures: false });

      // The user's address is unique to this test; the prefix names this export.
      const mails = await waitFor(async () => {
        const found = (await allMail()).filter(
          (m) => m.to.some((t) => t.address === address) || m.text.includes(created.exportPrefix),
        );
        return found.length > 0 ? (found as Received[]) : undefined;
      });
      expect(mails).toHaveLength(1);
      const mail = mails[0]!;
      expect(mail.subject).toBe('Offline export complete');
      expect(mail.headers['message-id']).toBe(
        `<offline-export-${created.exportId}-complete@${new URL(config.INSTANCE_BASE_URL).hostname}>`,
      );
      await expectOnlyToUser(mail, address, [
        'from',
        'to',
        'subject',
        'message-id',
        'date',
        'mime-version',
        'content-type',
      ]);

      // HTML: only the template's own tags, no attribute at all; the name is shown as the text it is.
      const tags = tagsOf(mail.html);
      expect([...new Set(tags.map((t) => t.name))].sort()).toEqual(['h1', 'p']);
      expect(tags.flatMap((t) => t.attributes)).toEqual([]);
      expect(mail.html).toContain('&lt;script&gt;');
      expect(shownText(mail.html)).toContain(`Hi ${folded(userName)}!`);
      expect(shownText(mail.html)).toContain(created.exportPrefix);

      // Text: the name on the greeting line, its CR/LF turned into spaces, and no line forged from it.
      expect(mail.text.split(/\r?\n/)[0]).toBe(`Hi ${userName.replace(/[\r\n]+/g, ' ')}!`);
      expectNoForgedTextLines(mail.text);
    } finally {
      if (exportPrefix) {
        const s3 = createStackS3Client(config);
        const keys = await listKeys(s3, config.S3_BUCKET, exportPrefix);
        if (keys.length > 0) {
          await s3.send(
            new DeleteObjectsCommand({ Bucket: config.S3_BUCKET, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
          );
        }
        s3.destroy();
      }
      // The export, its configuration and its rows go with the user (on delete cascade).
      if (userId !== undefined) await sql`delete from users where id = ${userId}`;
      await dropRootGroup(sql, group);
    }
  }, 120_000);

  it('the bulk-update failure report with a hostile recipient, project names, paths and error message', async () => {
    const { sql } = tw.deps;
    const suffix = randomBytes(4).toString('hex');
    const username = `mail-bulk-${suffix}`;
    const address = `${username}@example.test`;
    const recipientName = hostile('recipient');
    // The category's name is quoted by the single-selection error, so the error message carries it.
    const categoryName = `Exposure <iframe src=javascript:alert(3)></iframe> &amp; "q" 'a'\r\nX-Injected: category`;
    let group: OwnGroup | undefined;
    let userId: number | undefined;
    try {
      group = await createRootGroup(sql, `email-e2e-bulk-${suffix}`, 'Email e2e bulk');
      const [category] = await sql<{ id: number }[]>`
        insert into security_categories (namespace_id, name, description, editable_state, multiple_selection)
        values (${group.id}, ${categoryName}, 'test', 20, false) returning id`;
      const attribute = async (name: string) => {
        const [row] = await sql<{ id: number }[]>`
          insert into security_attributes (namespace_id, security_category_id, name, description, color, editable_state)
          values (${group!.id}, ${category!.id}, ${name}, 'test', '#17a2b8', 20) returning id`;
        return row!.id;
      };
      const held = await attribute('Held');
      const added = await attribute('Added');
      // Notifications on for this root group whatever the global flag says.
      await sql`
        insert into feature_flag_actors (name, actor_type, actor_id) values ('security_bulk_operations_notifications', 'Group', ${group.id})
        on conflict do nothing`;

      // Two projects that fail (they hold 'Held', in the same single-selection category), with hostile names and
      // paths, and two that succeed.
      const failing = [
        await createProject(
          sql,
          group,
          `p1"><script>alert(1)</script>\r\nBcc: victim@example.test`,
          hostile('project-1'),
        ),
        await createProject(
          sql,
          group,
          `p2 <img src=x onerror=alert(2)>&lt;b&gt;`,
          `<b onmouseover="steal()">Two</b> &lt;i&gt; \r\nX-Injected: yes`,
        ),
      ];
      const succeeding = [
        await createProject(sql, group, 'plain-one', `Plain one ${suffix}`),
        await createProject(sql, group, 'plain-two', `Plain two ${suffix}`),
      ];
      for (const p of failing) {
        await sql`
          insert into project_to_security_attributes (project_id, security_attribute_id, traversal_ids)
          values (${p.id}, ${held}, array[${group.id}]::bigint[])`;
      }
      userId = await createUser(
        sql,
        username,
        [{ sourceType: 'Namespace', sourceId: group.id, level: AccessLevel.MAINTAINER }],
        recipientName,
      );

      const started = await startBulkUpdate(
        { sql, client: tw.client, taskQueue: tw.taskQueue },
        { userId, groupIds: [group.id], projectIds: [], attributeIds: [added], mode: 'ADD' },
      );
      const result = await tw.run(() =>
        tw.client.workflow.getHandle<typeof BulkUpdateWorkflow>(started.workflowId).result(),
      );
      expect(result).toMatchObject({ totalItems: 4, successfulItems: 2, failedItems: 2, notification: 'sent' });

      // Found by the operation id header, and addressed to this test's unique user.
      const mails = (await waitForOperationMail(started.operationId)) as Received[];
      expect(mails).toHaveLength(1);
      const mail = mails[0]!;
      expect(mail.subject).toBe('Bulk operation failed: Attribute update');
      expect(mail.headers['message-id']).toBe(
        `<bulk-operation.${started.operationId}@${new URL(tw.config.INSTANCE_BASE_URL).hostname}>`,
      );
      await expectOnlyToUser(mail, address, [
        'x-gitlab-background-operation-id',
        'from',
        'to',
        'subject',
        'message-id',
        'date',
        'mime-version',
        'content-type',
      ]);
      // The display name is kept (on one line), the address is the user's.
      expect(folded(mail.to[0]!.name)).toBe(folded(recipientName));

      // HTML: only the template's own tags and attributes; no script, img, iframe, b or event handler got in.
      const tags = tagsOf(mail.html);
      expect([...new Set(tags.map((t) => t.name))].sort()).toEqual([
        '!doctype',
        'a',
        'body',
        'h1',
        'head',
        'html',
        'li',
        'meta',
        'p',
        'strong',
        'title',
        'ul',
      ]);
      expect([...new Set(tags.flatMap((t) => t.attributes))].sort()).toEqual(['charset', 'href', 'style']);
      expect(mail.html).toContain('&lt;script&gt;');
      const shown = shownText(mail.html);
      expect(shown).toContain(`Hi ${folded(recipientName)}!`);
      expect(shown).toContain('Total items: 4');
      expect(shown).toContain('Successful: 2');
      expect(shown).toContain('Failed: 2');

      // Each failed project is listed by its name, shown as text, linked to its own path (percent-encoded, so the
      // link can only ever be that path), with GitLab's message and, listed under it, the reason naming the category.
      const items = [
        ...mail.html.matchAll(
          /<li><strong><a href="([^"]*)">([\s\S]*?)<\/a><\/strong> - ([\s\S]*?)<ul><li>([\s\S]*?)<\/li><\/ul><\/li>/g,
        ),
      ].map((m) => ({
        href: shownText(m[1]!).trim(),
        label: shownText(m[2]!).trim(),
        error: shownText(m[3]!).trim(),
        reason: shownText(m[4]!).trim(),
      }));
      expect(items.map((i) => i.label).sort()).toEqual(failing.map((p) => folded(p.name).trim()).sort());
      for (const p of failing) {
        const item = items.find((i) => i.label === folded(p.name).trim())!;
        const url = new URL(item.href);
        expect(`${url.protocol}//${url.host}`).toBe(new URL(tw.config.INSTANCE_BASE_URL).origin);
        expect(url.pathname.split('/').slice(1).map(decodeURIComponent)).toEqual(p.fullPath.split('/'));
        expect(item.error).toBe('Invalid attributes');
        expect(item.reason).toBe(`Cannot add multiple attributes from the same category ${category!.id}`);
      }
      for (const p of succeeding) expect(shown).not.toContain(p.name);

      // Text: one line per failed project, CR/LF in names and messages turned into spaces; no forged line.
      expectNoForgedTextLines(mail.text);
      const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ');
      for (const p of failing) {
        expect(mail.text.split(/\r?\n/).filter((line) => line.startsWith(`- ${oneLine(p.name)} (`))).toHaveLength(1);
      }
      expect(mail.text).toContain(
        ` - Invalid attributes\n    - Cannot add multiple attributes from the same category ${category!.id}\n`,
      );
      expect(mail.text.split(/\r?\n/)[0]).toBe(`Hi ${oneLine(recipientName)}!`);
    } finally {
      // The operation and its project rows go with the user (on delete cascade); the group takes the rest.
      if (userId !== undefined) await sql`delete from users where id = ${userId}`;
      await dropRootGroup(sql, group);
    }
  }, 120_000);
});
