import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { randomBytes } from 'node:crypto';
import type { Config } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import type { Logger } from './log';
import { ensureSearchAttributes, SEARCH_ATTRIBUTES } from './search-attributes';
import { errorMessage } from './service';

// Namespaces of one run each, for a database that is rebuilt (the test database, a chaos test's database, a
// benchmark's). Workflow ids derive from database ids (offline-export:<id>), and a rebuilt database starts its ids
// again at 1 while the Temporal server keeps every earlier workflow: in a namespace of its own per run, a database's
// ids never meet an earlier run's workflows, so the production code keeps its strict id reuse policy.

/** How long closed workflows of a run's namespace are kept: one day, the least the server allows. */
export const RUN_NAMESPACE_RETENTION = '1 day';

const USABLE_TIMEOUT_MS = 30_000;

/** `<base>-<yyyymmddhhmmss>-<6 hex>`: named after the database, new every run. */
export function runNamespaceName(base: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/\D/g, '').slice(0, 14);
  return `${namespaceBase(base)}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Whether `name` is a run namespace made for `base` (and not for another base that merely starts the same way). */
export function isRunNamespaceOf(base: string, name: string): boolean {
  const prefix = `${namespaceBase(base)}-`;
  return name.startsWith(prefix) && /^\d{14}-[0-9a-f]{6}$/.test(name.slice(prefix.length));
}

// Namespace names take letters, digits, '-', '_' and '.'; database names here are lowercase and underscored already.
const namespaceBase = (base: string) => base.toLowerCase().replace(/[^a-z0-9_.-]/g, '_');

async function withConnection<T>(config: Config, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await Connection.connect(temporalConnectionOptions(config));
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/**
 * Registers a new namespace for this run of `base` (a database name) with the project's search attributes, waits
 * until a visibility query on them answers, and deletes the namespaces earlier runs of the same base left behind
 * (best effort: the one-day retention bounds what a failed delete leaves). Returns the namespace's name.
 */
export async function createRunNamespace(config: Config, base: string, log: Logger = () => undefined): Promise<string> {
  const namespace = runNamespaceName(base);
  await withConnection(config, async (conn) => {
    await conn.workflowService.registerNamespace({
      namespace,
      description: `one run of ${base} (created by the test or benchmark setup; deleted by its next run)`,
      workflowExecutionRetentionPeriod: msToTs(RUN_NAMESPACE_RETENTION),
    });
    await ensureSearchAttributes(conn, namespace);
    await waitUntilUsable(conn, namespace);
    const earlier = (await namespaceNames(conn)).filter((name) => name !== namespace && isRunNamespaceOf(base, name));
    for (const name of earlier) {
      try {
        await conn.operatorService.deleteNamespace({ namespace: name });
      } catch (err) {
        log(`temporal: could not delete namespace ${name} of an earlier run (${errorMessage(err)}); it expires`);
      }
    }
    log(`temporal: namespace ${namespace}${earlier.length > 0 ? ` (deleted ${earlier.length} of earlier runs)` : ''}`);
  });
  return namespace;
}

/** Deletes a run's namespace (and with it its workflows); a namespace that is already gone is not an error. */
export async function deleteRunNamespace(config: Config, namespace: string): Promise<void> {
  await withConnection(config, async (conn) => {
    await conn.operatorService.deleteNamespace({ namespace }).catch((err: unknown) => {
      if (!/not found|NotFound/i.test(errorMessage(err))) throw err;
    });
  });
}

async function namespaceNames(conn: Connection): Promise<string[]> {
  const names: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await conn.workflowService.listNamespaces({ pageSize: 200, nextPageToken });
    for (const ns of page.namespaces ?? []) if (ns.namespaceInfo?.name) names.push(ns.namespaceInfo.name);
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return names;
}

/**
 * A registered namespace reaches the frontend's cache and the visibility store's attribute mapping a moment later
 * on some servers: wait until a list query that names every custom attribute answers.
 */
async function waitUntilUsable(conn: Connection, namespace: string): Promise<void> {
  const query = SEARCH_ATTRIBUTES.map((sa) => `${sa.name} IS NULL`).join(' AND ');
  const deadline = Date.now() + USABLE_TIMEOUT_MS;
  for (;;) {
    try {
      await conn.workflowService.countWorkflowExecutions({ namespace, query });
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`namespace ${namespace} was not usable within ${USABLE_TIMEOUT_MS} ms: ${errorMessage(err)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
