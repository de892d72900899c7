import { Client, Connection } from '@temporalio/client';
import { hostname } from 'node:os';
import { createOfflineExport, OfflineExportRequestError } from '../../client/offline-export/create-service';
import {
  assertAddressesAllowed,
  assertEndpointAllowed,
  BlockedEndpointError,
  endpointUrlsToCheck,
  guardedLookup,
  type LookupHost,
} from '../../contracts/endpoint-guard';
import { SEED_USERS } from '../../db/seed/generate';
import { createSql, type Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { writtenRows } from './support';

// The endpoint SSRF guard beyond test/offline-export/create.test.ts: every spelling of a local or metadata address
// (decimal, octal, hex, short forms, IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6), names resolving there,
// virtual-hosted bucket names, and DNS rebinding between the check and the bucket check's connection.

const PUBLIC = '93.184.216.34';
const refuse = async (endpoint: string, allowLocalNetwork: boolean, lookupHost: LookupHost = async () => [PUBLIC]) =>
  assertEndpointAllowed(endpoint, { allowLocalNetwork, lookupHost }).then(
    (addresses) => `allowed ${addresses.join(',')}`,
    (err: unknown) => (err instanceof BlockedEndpointError ? err.message : `unexpected ${String(err)}`),
  );

const LOCALHOST = 'Requests to localhost are not allowed';
const LOOPBACK = 'Requests to loopback addresses are not allowed';
const LOCAL = 'Requests to the local network are not allowed';
const LINK_LOCAL = 'Requests to the link local network are not allowed';
const METADATA = 'Requests to the cloud metadata endpoint are not allowed';
const loopbackOrLocalhost = [LOCALHOST, LOOPBACK]; // 127.0.0.1 is also one of this host's own addresses

describe('SSRF guard: addresses, however they are written', () => {
  const loopback = [
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0x7f000001/',
    'http://017700000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://127.0.1/',
    'http://127.255.255.254/',
    'http://[::1]/',
    'http://[0:0:0:0:0:0:0:1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[0:0:0:0:0:ffff:127.0.0.1]/',
    'http://[::127.0.0.1]/', // IPv4-compatible
    'http://[64:ff9b::127.0.0.1]/', // NAT64
    'http://[2002:7f00:1::]/', // 6to4
    'http://[::ffff:0:127.0.0.1]/', // IPv4-translated
    'http://0/',
    'http://0.0.0.0/',
    'http://[::]/',
    'https://127.0.0.1:9000/some/path?x=1',
    'http://user:pass@127.0.0.1/',
  ];
  it.each(loopback)('refuses %s unless local networks are allowed', async (endpoint) => {
    expect([...loopbackOrLocalhost]).toContain(await refuse(endpoint, false));
    expect(await refuse(endpoint, true)).toMatch(/^allowed /);
  });

  it.each([
    ['http://10.0.0.1/', LOCAL],
    ['http://012.0.0.1/', LOCAL],
    ['http://167772161/', LOCAL],
    ['http://172.16.0.1/', LOCAL],
    ['http://172.31.255.255/', LOCAL],
    ['http://192.168.1.1/', LOCAL],
    ['http://0xc0.0xa8.1.1/', LOCAL],
    ['http://[::ffff:192.168.1.1]/', LOCAL],
    ['http://[::ffff:c0a8:101]/', LOCAL],
    ['http://[64:ff9b::c0a8:101]/', LOCAL],
    ['http://[2002:c0a8:101::1]/', LOCAL],
    ['http://[fc00::1]/', LOCAL],
    ['http://[fd12:3456::1]/', LOCAL],
    ['http://[fec0::1]/', LOCAL],
    ['http://169.254.1.1/', LINK_LOCAL],
    ['http://[fe80::1]/', LINK_LOCAL],
    ['http://[::ffff:169.254.1.1]/', LINK_LOCAL],
    ['http://100.64.0.1/', 'Requests to the shared address space are not allowed'],
    ['http://255.255.255.255/', 'Requests to the limited broadcast address are not allowed'],
  ])('refuses %s (%s) unless local networks are allowed', async (endpoint, message) => {
    expect(await refuse(endpoint, false)).toBe(message);
    expect(await refuse(endpoint, true)).toMatch(/^allowed /);
  });

  it.each([
    'http://169.254.169.254/',
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://2852039166/',
    'http://0xa9fea9fe/',
    'http://0xa9.0xfe.0xa9.0xfe/',
    'http://0251.0376.0251.0376/',
    'http://169.254.43518/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
    'http://[::169.254.169.254]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[2002:a9fe:a9fe::]/',
    'http://[::ffff:0:a9fe:a9fe]/',
    'http://169.254.170.2/v2/credentials',
    'http://[fd00:ec2::254]/',
    'http://[fd00:ec2:0:0:0:0:0:254]/',
    'http://100.100.100.200/',
    'http://metadata.google.internal/',
    'http://METADATA.GOOGLE.INTERNAL./',
    'http://metadata.goog/',
    'http://metadata/',
    'http://instance-data/',
    'http://evil.example@169.254.169.254/',
  ])('refuses the metadata endpoint %s even when local networks are allowed', async (endpoint) => {
    expect(await refuse(endpoint, true)).toBe(METADATA);
    expect(await refuse(endpoint, false)).toMatch(/not allowed$/);
  });

  it('lets public addresses through, and a name whose embedded-looking labels are only labels', async () => {
    expect(await refuse('http://93.184.216.34/', false)).toBe(`allowed ${PUBLIC}`);
    expect(await refuse('http://[2606:2800:220:1:248:1893:25c8:1946]/', false)).toBe('allowed 2606:2800:220:1:248:1893:25c8:1946');
    expect(await refuse('http://[2002:5db8:d822::1]/', false)).toBe('allowed 2002:5db8:d822::1'); // 6to4 of a public address
    // "169.254.169.254:80@evil.example" is user info in front of the host evil.example: only evil.example counts.
    expect(await refuse('http://169.254.169.254:80@evil.example/', false)).toBe(`allowed ${PUBLIC}`);
  });

  it('refuses schemes other than http(s) and hosts that are not hosts', async () => {
    expect(await refuse('ftp://93.184.216.34/', true)).toBe('Only allowed schemes are http, https');
    expect(await refuse('file:///etc/passwd', true)).toBe('Only allowed schemes are http, https');
    expect(await refuse('gopher://127.0.0.1:6379/_', true)).toBe('Only allowed schemes are http, https');
    expect(await refuse('http://[fe80::1%25eth0]/', true)).toBe('URI is invalid');
    expect(await refuse('not a url', true)).toBe('URI is invalid');
  });
});

describe('SSRF guard: names', () => {
  const resolvesTo = (table: Record<string, string[]>): LookupHost => async (host) => table[host] ?? [PUBLIC];

  it('refuses a harmless-looking name if any of its addresses is local, mapped or metadata', async () => {
    expect(await refuse('http://s3.example.test/', false, resolvesTo({ 's3.example.test': [PUBLIC, '10.1.2.3'] }))).toBe(LOCAL);
    expect(await refuse('http://s3.example.test/', false, resolvesTo({ 's3.example.test': ['::ffff:127.0.0.1'] }))).toMatch(/localhost|loopback/);
    expect(await refuse('http://s3.example.test/', false, resolvesTo({ 's3.example.test': ['64:ff9b::a9fe:a9fe'] }))).toBe(LINK_LOCAL);
    expect(await refuse('http://s3.example.test/', true, resolvesTo({ 's3.example.test': ['169.254.169.254'] }))).toBe(METADATA);
    expect(await refuse('http://s3.example.test/', true, resolvesTo({ 's3.example.test': ['fe80::1%eth0', 'fd00:ec2::254'] }))).toBe(METADATA);
  });

  it('refuses a name that does not resolve, resolves to nothing, to garbage, or too slowly', async () => {
    expect(await refuse('http://s3.example.test/', true, async () => { throw new Error('ENOTFOUND'); })).toBe('Host cannot be resolved or invalid');
    expect(await refuse('http://s3.example.test/', true, async () => [])).toBe('Host cannot be resolved or invalid');
    expect(await refuse('http://s3.example.test/', true, async () => ['not-an-address'])).toBe('Host cannot be resolved or invalid');
  });

  it('refuses real names of this machine: localhost (whatever a resolver says), its own host name', async () => {
    expect(await refuse('http://localhost:9000/', false)).toBe(LOCALHOST);
    expect(await refuse('http://LOCALHOST./', false)).toBe(LOCALHOST);
    expect(await refuse('http://s3.localhost/', false)).toBe(LOCALHOST);
    expect(loopbackOrLocalhost).toContain(await assertEndpointAllowed('http://localhost/', { allowLocalNetwork: false }).catch((e: Error) => e.message));
    expect(loopbackOrLocalhost).toContain(await assertEndpointAllowed(`http://${hostname()}:9000/`, { allowLocalNetwork: false }).catch((e: Error) => e.message));
    expect(await assertEndpointAllowed('http://localhost/', { allowLocalNetwork: true })).toEqual(expect.arrayContaining([expect.stringMatching(/^(127\.0\.0\.1|::1)$/)]));
  });

  it('checks the virtual-hosted name <bucket>.<host> the SDK contacts without path_style', async () => {
    expect(endpointUrlsToCheck('http://s3.example.test/', 'my-bucket', false)).toEqual(['http://s3.example.test/', 'http://my-bucket.s3.example.test/']);
    expect(endpointUrlsToCheck('http://s3.example.test/', 'my-bucket', true)).toEqual(['http://s3.example.test/']);
    expect(endpointUrlsToCheck('http://93.184.216.34/', 'my-bucket', false)).toEqual(['http://93.184.216.34/']);
    const lookupHost = resolvesTo({ 'internal.s3.example.test': ['192.168.0.10'] });
    const results = [];
    for (const url of endpointUrlsToCheck('http://s3.example.test/', 'internal', false)) results.push(await refuse(url, false, lookupHost));
    expect(results).toEqual([`allowed ${PUBLIC}`, LOCAL]);
  });

  it('guardedLookup applies the same rules at connection time', async () => {
    const lookup = (host: string, allowLocalNetwork: boolean, all: boolean) =>
      new Promise<string>((resolve) => {
        guardedLookup({ allowLocalNetwork })(host, { all }, (err: Error | null, address: unknown) =>
          resolve(err ? `error: ${err.message}` : JSON.stringify(address)),
        );
      });
    expect(loopbackOrLocalhost.map((m) => `error: ${m}`)).toContain(await lookup('localhost', false, false));
    expect(loopbackOrLocalhost.map((m) => `error: ${m}`)).toContain(await lookup(hostname(), false, true));
    expect(await lookup('localhost', true, false)).toMatch(/127\.0\.0\.1|::1/);
    expect(await lookup('localhost', true, true)).toMatch(/"address":"(127\.0\.0\.1|::1)"/);
    expect(() => assertAddressesAllowed(['169.254.169.254'], true)).toThrow(METADATA);
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
      { sql, temporal, config: { ...config, ALLOW_LOCAL_NETWORK_ENDPOINTS: false }, taskQueue: 'security-ssrf-never-polled', lookupHost: async () => [PUBLIC] },
      { id: SEED_USERS.owner.id },
      {
        bucket: config.S3_BUCKET,
        s3_compatible_configuration: {
          aws_access_key_id: config.S3_ACCESS_KEY_ID,
          aws_secret_access_key: config.S3_SECRET_ACCESS_KEY,
          region: config.S3_REGION,
          path_style: true,
          endpoint,
        },
        entities: [{ full_path: 'gitlab-org' }],
      },
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
