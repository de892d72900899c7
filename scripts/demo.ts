import { ListObjectsV2Command, type _Object } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { devBucketExportBody } from '../client/offline-export/dev-bucket';
import { migrate } from '../db/migrate';
import { seedInstance, SeedRefusedError, seedToken } from '../db/seed/generate';
import { attributeIdByName, namespaceIdByPath } from '../db/seed/lookups';
import { exportSize } from '../db/offline-export/tracking';
import { createSql } from '../db/sql';
import { stackUp } from './stack/index';
import { loadConfigOrExit, storagePaths, type Config } from '../contracts/config';
import { createStackS3Client } from '../worker/deps';
import { loadEnvFile } from '../contracts/env-file';
import { webUiLink, webUiWorkflowsLink } from '../contracts/temporal';
import { credentialsPurgeWorkflowId, offlineExportWorkflowId } from '../contracts/offline-export';
import { Client, Connection } from '@temporalio/client';
import { temporalConnectionOptions } from '../contracts/temporal';

// The main job in one command (npm run demo): the local stack, a seeded instance, a worker and the API, then an
// offline export and a bulk update with some failures, both through the REST API as a user would run them.

const ROOT = join(__dirname, '..');
const say = (line = '') => process.stdout.write(`${line}\n`);

function startProcess(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, script)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...env, LOG_LEVEL: 'warn', EXPORT_CREDENTIALS_PURGE_DELAY_MS: '5000' },
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`demo: the ${name} exited with code ${code}\n`);
  });
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function api<T>(
  config: Config,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${config.API_PORT}/api/v4${path}`, {
    method,
    headers: { 'PRIVATE-TOKEN': token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function listObjects(config: Config, prefix: string): Promise<_Object[]> {
  const s3 = createStackS3Client(config);
  const objects: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: config.S3_BUCKET, Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    objects.push(...(page.Contents ?? []));
    token = page.NextContinuationToken;
  } while (token);
  s3.destroy();
  return objects;
}

async function main(): Promise<void> {
  loadEnvFile();
  const config = loadConfigOrExit();
  say('== Local stack');
  await stackUp(config);

  say('\n== Source instance');
  const sql = createSql(config.DATABASE_URL, { max: 2 });
  const children: ChildProcess[] = [];
  try {
    await migrate(sql);
    // An earlier demo's instance is kept: export ids name their workflows, and a reseed would start them again at 1
    // on a dev server that still holds the workflows of the earlier exports.
    const seeded = await seedInstance(sql, {
      projects: 120,
      issues: 6000,
      files: { storage: storagePaths(config) },
    }).catch((err: unknown) => {
      if (err instanceof SeedRefusedError) return undefined;
      throw err;
    });
    if (!seeded) say('Using the instance an earlier run seeded');
    else
      say(
        `Seeded ${seeded.groups} groups, ${seeded.projects} projects, ${seeded.issues} issues, ${seeded.mergeRequests} merge requests, ${seeded.notes} notes in ${(seeded.ms / 1000).toFixed(1)} s`,
      );

    say('\n== Worker and API');
    children.push(startProcess('worker', 'worker/main.ts', process.env));
    children.push(startProcess('API', 'client/api/main.ts', process.env));
    await waitFor(
      'the API answering',
      async () => ((await fetch(`http://127.0.0.1:${config.API_PORT}/-/readiness`)).ok ? true : undefined),
      60_000,
    );
    say(
      `API on http://127.0.0.1:${config.API_PORT}, worker polling ${config.TEMPORAL_TASK_QUEUE_EXPORT} and ${config.TEMPORAL_TASK_QUEUE_BULK_UPDATE}`,
    );

    const alice = seedToken('alice');
    say('\n== Offline export of gitlab-org and flightjs/Flight (POST /api/v4/offline_exports as alice)');
    const created = await api<{ id: number; export_prefix: string; message?: string }>(
      config,
      'POST',
      '/offline_exports',
      alice,
      devBucketExportBody(config, ['gitlab-org', 'flightjs/Flight']),
    );
    if (created.status !== 201) throw new Error(`export refused (${created.status}): ${created.body.message}`);
    const exportId = created.body.id;
    const finished = await waitFor('the export to finish', async () => {
      const res = await api<{ status: string; has_failures: boolean }>(
        config,
        'GET',
        `/offline_exports/${exportId}`,
        alice,
      );
      return res.body.status === 'finished' || res.body.status === 'failed' ? res.body : undefined;
    });
    const objects = await listObjects(config, created.body.export_prefix);
    const bytes = objects.reduce((sum, o) => sum + (o.Size ?? 0), 0);
    const counts = await exportSize(sql, exportId);
    say(`Export ${exportId}: ${finished.status}${finished.has_failures ? ' (with failures)' : ''}`);
    say(`  ${counts.portables} groups and projects, ${counts.relations} relation exports, ${counts.records} records`);
    say(
      `  ${objects.length} objects, ${(bytes / 1024).toFixed(0)} KiB in s3://${config.S3_BUCKET}/${created.body.export_prefix}/`,
    );
    for (const pattern of [
      /\/metadata\.json\.gz$/,
      /\/group_\d+\/self\.json\.gz$/,
      /\/project_\d+\/issues\/batch_1\.ndjson\.gz$/,
    ]) {
      const o = objects.find((x) => pattern.test(x.Key ?? ''));
      if (o) say(`    ${o.Key} (${o.Size} bytes)`);
    }
    say(`  Web UI: ${webUiLink(config, offlineExportWorkflowId(exportId))} (Completed)`);

    say('\n== Bulk update: ADD "Internet facing" to every project of gitlab-org (as alice)');
    say('   About one project in four already has "Internal" from the same single-selection category: those fail.');
    const started = await api<{ operation_id: string; workflow_id: string; message: string }>(
      config,
      'POST',
      '/security/attributes/bulk_update',
      alice,
      {
        group_ids: [await namespaceIdByPath(sql, 'gitlab-org')],
        attribute_ids: [await attributeIdByName(sql, 'gitlab-org', 'Internet facing')],
        mode: 'ADD',
      },
    );
    if (started.status !== 202) throw new Error(`bulk update refused (${started.status}): ${started.body.message}`);
    const operationId = started.body.operation_id;
    const operation = await waitFor('the bulk update to finish', async () => {
      const res = await api<{
        source: string;
        status: string;
        total_items: number;
        successful_items: number;
        failed_items: number;
        notification?: string;
      }>(config, 'GET', `/security/background_operations/${operationId}`, alice);
      return res.body.source === 'workflow' && res.body.status === 'finished' ? res.body : undefined;
    });
    say(
      `Operation ${operationId}: ${operation.total_items} projects, ${operation.successful_items} successful, ${operation.failed_items} failed; email ${operation.notification}`,
    );
    say(
      `  Redis keys background_operation:${operationId}* deleted: ${(await redisKeysGone(config, operationId)) ? 'yes' : 'no'}`,
    );
    say(`  Web UI: ${webUiLink(config, started.body.workflow_id)}`);

    // The export's workflow completed with the export; its credential purge is a workflow of its own, 5 s later with
    // the demo's EXPORT_CREDENTIALS_PURGE_DELAY_MS. Wait for it, so stopping the worker leaves nothing Running.
    const connection = await Connection.connect(temporalConnectionOptions(config));
    try {
      const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
      await client.workflow.getHandle(credentialsPurgeWorkflowId(exportId)).result();
    } finally {
      await connection.close();
    }
    say(`\nCredentials of export ${exportId} purged: ${webUiLink(config, credentialsPurgeWorkflowId(exportId))}`);

    say('\n== Mail');
    const mails = (await (await fetch(`http://127.0.0.1:${config.MAILDEV_WEB_PORT}/api/email`)).json()) as {
      subject: string;
      to: { address: string }[];
    }[];
    for (const m of mails.filter((m) => m.to.some((t) => t.address === 'alice@example.test')).slice(-2)) {
      say(`  to alice@example.test: "${m.subject}"`);
    }
    say(`  Read them at http://127.0.0.1:${config.MAILDEV_WEB_PORT}`);
    say(`\nTemporal Web UI: ${webUiWorkflowsLink(config)} (filter with: GitlabUserId = 2)`);
  } finally {
    await Promise.all(children.map(stopProcess));
    await sql.end({ timeout: 5 });
  }
}

async function redisKeysGone(config: Config, operationId: string): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(config.REDIS_URL);
  try {
    return (
      (await redis.exists(
        `background_operation:${operationId}`,
        `background_operation:${operationId}:failed_items`,
      )) === 0
    );
  } finally {
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
