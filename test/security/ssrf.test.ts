import { Client, Connection } from '@temporalio/client';
import { hostname } from 'node:os';
import { createOfflineExport, OfflineExportRequestError } from '../../client/offline-export/create-service';
import { assertEndpointAllowed, guardedLookup } from '../../contracts/endpoint-guard';
import { SEED_USERS } from '../../db/seed/generate';
import { createSql, type Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { writtenRows } from '../helpers/database';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';

// The endpoint SSRF guard against the stack: this machine's own host name (resolved by the system resolver) and DNS
// rebinding between the check and the bucket check's connection. The guard's rules themselves (every spelling of a
// local or metadata address, names, virtual-hosted bucket names) are unit tests: test/contracts/endpoint-guard.unit.test.ts.

const PUBLIC = '93.184.216.34';
const LOCALHOST = 'Requests to localhost are not allowed';
const LOOPBACK = 'Requests to loopback addresses are not allowed';
const loopbackOrLocalhost = [LOCALHOST, LOOPBACK]; // 127.0.0.1 is also one of this host's own addresses

describe("SSRF guard: this machine's own host name", () => {
  it('is refused, both when the export is created and at connection time', async () => {
    expect(loopbackOrLocalhost).toContain(
      await assertEndpointAllowed(`http://${hostname()}:9000/`, { allowLocalNetwork: false }).catch(
        (e: Error) => e.message,
      ),
    );
    const atConnection = await new Promise<string>((resolve) => {
      guardedLookup({ allowLocalNetwork: false })(hostname(), { all: true }, (err: Error | null, address: unknown) =>
        resolve(err ? err.message : JSON.stringify(address)),
      );
    });
    expect(loopbackOrLocalhost).toContain(atConnection);
  });
});

describe('SSRF: DNS rebinding between the check and the bucket check', () => {
  const config = loadConfig();
  let sql: Sql;
  let connection: Connection;
  let temporal: Client;
  beforeAll(async () => {
    sql = createSql(config.DATABASE_URL, { max: 2 });
    connection = await Connection.connect(temporalConnectionOptions(config));
    temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    await connection?.close();
  });

  it('refuses an endpoint whose name resolved to a public address at the check but connects to the local MinIO', async () => {
    // The first answer (the injected lookup) is public; the connection resolves the name again and gets
    // 127.0.0.1, where the stack's MinIO really listens with these credentials. Without the connection-time check
    // this export would be created against a loopback endpoint.
    const endpoint = config.S3_ENDPOINT.replace('127.0.0.1', hostname());
    const before = await writtenRows(sql);
    const error = await createOfflineExport(
      {
        sql,
        temporal,
        config: { ...config, ALLOW_LOCAL_NETWORK_ENDPOINTS: false },
        taskQueue: 'security-ssrf-never-polled',
        lookupHost: async () => [PUBLIC],
      },
      { id: SEED_USERS.owner.id },
      devBucketExportBody({ ...config, S3_ENDPOINT: endpoint }, ['gitlab-org']),
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(OfflineExportRequestError);
    expect((error as Error).message).toMatch(
      /^Unable to access object storage bucket\. The endpoint is blocked: Requests to (localhost|loopback addresses) are not allowed$/,
    );
    expect((error as Error).message).not.toContain(config.S3_SECRET_ACCESS_KEY);
    expect(await writtenRows(sql)).toEqual(before);
  });
});
