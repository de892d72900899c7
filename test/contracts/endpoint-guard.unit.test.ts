import { networkInterfaces } from 'node:os';
import {
  assertAddressesAllowed,
  assertEndpointAllowed,
  BlockedEndpointError,
  endpointUrlsToCheck,
  guardedLookup,
  type LookupHost,
} from '../../contracts/endpoint-guard';

// The endpoint SSRF guard (Gitlab::HTTP_V2::UrlBlocker's checks and messages, plus cloud metadata): every spelling of
// a local or metadata address (decimal, octal, hex, short forms, IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6),
// names resolving there (through an injected resolver), virtual-hosted bucket names. No network: IP literals, the
// injected resolver, and `localhost`. test/security/ssrf.test.ts keeps the cases that need the stack (DNS rebinding
// against the real MinIO, this machine's own host name) and test/offline-export/create.test.ts the API's use of it.

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
    expect(await refuse('http://[2606:2800:220:1:248:1893:25c8:1946]/', false)).toBe(
      'allowed 2606:2800:220:1:248:1893:25c8:1946',
    );
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
  const resolvesTo =
    (table: Record<string, string[]>): LookupHost =>
    async (host) =>
      table[host] ?? [PUBLIC];

  it('refuses a harmless-looking name if any of its addresses is local, mapped or metadata', async () => {
    expect(
      await refuse('http://s3.example.test/', false, resolvesTo({ 's3.example.test': [PUBLIC, '10.1.2.3'] })),
    ).toBe(LOCAL);
    expect(
      await refuse('http://s3.example.test/', false, resolvesTo({ 's3.example.test': ['::ffff:127.0.0.1'] })),
    ).toMatch(/localhost|loopback/);
    expect(
      await refuse('http://s3.example.test/', false, resolvesTo({ 's3.example.test': ['64:ff9b::a9fe:a9fe'] })),
    ).toBe(LINK_LOCAL);
    expect(await refuse('http://s3.example.test/', true, resolvesTo({ 's3.example.test': ['169.254.169.254'] }))).toBe(
      METADATA,
    );
    expect(
      await refuse(
        'http://s3.example.test/',
        true,
        resolvesTo({ 's3.example.test': ['fe80::1%eth0', 'fd00:ec2::254'] }),
      ),
    ).toBe(METADATA);
  });

  it('refuses a name that does not resolve, resolves to nothing, to garbage, or too slowly', async () => {
    expect(
      await refuse('http://s3.example.test/', true, async () => {
        throw new Error('ENOTFOUND');
      }),
    ).toBe('Host cannot be resolved or invalid');
    expect(await refuse('http://s3.example.test/', true, async () => [])).toBe('Host cannot be resolved or invalid');
    expect(await refuse('http://s3.example.test/', true, async () => ['not-an-address'])).toBe(
      'Host cannot be resolved or invalid',
    );
  });

  it('refuses localhost by name (whatever a resolver says)', async () => {
    expect(await refuse('http://localhost:9000/', false)).toBe(LOCALHOST);
    expect(await refuse('http://LOCALHOST./', false)).toBe(LOCALHOST);
    expect(await refuse('http://s3.localhost/', false)).toBe(LOCALHOST);
    expect(loopbackOrLocalhost).toContain(
      await assertEndpointAllowed('http://localhost/', { allowLocalNetwork: false }).catch((e: Error) => e.message),
    );
    expect(await assertEndpointAllowed('http://localhost/', { allowLocalNetwork: true })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(127\.0\.0\.1|::1)$/)]),
    );
  });

  it('checks the virtual-hosted name <bucket>.<host> the SDK contacts without path_style', async () => {
    expect(endpointUrlsToCheck('http://s3.example.test/', 'my-bucket', false)).toEqual([
      'http://s3.example.test/',
      'http://my-bucket.s3.example.test/',
    ]);
    expect(endpointUrlsToCheck('http://s3.example.test/', 'my-bucket', true)).toEqual(['http://s3.example.test/']);
    expect(endpointUrlsToCheck('http://93.184.216.34/', 'my-bucket', false)).toEqual(['http://93.184.216.34/']);
    const lookupHost = resolvesTo({ 'internal.s3.example.test': ['192.168.0.10'] });
    const results = [];
    for (const url of endpointUrlsToCheck('http://s3.example.test/', 'internal', false))
      results.push(await refuse(url, false, lookupHost));
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
    expect(loopbackOrLocalhost.map((m) => `error: ${m}`)).toContain(await lookup('localhost', false, true));
    expect(await lookup('localhost', true, false)).toMatch(/127\.0\.0\.1|::1/);
    expect(await lookup('localhost', true, true)).toMatch(/"address":"(127\.0\.0\.1|::1)"/);
    expect(() => assertAddressesAllowed(['169.254.169.254'], true)).toThrow(METADATA);
  });
});

describe('SSRF guard: this machine and the resolver', () => {
  it("refuses every address of this machine's own interfaces as localhost, whatever range it is in", () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i !== undefined)
      .map((i) => i.address);
    expect(own).toContain('127.0.0.1');
    for (const address of own) {
      expect({ address, error: messageOf(() => assertAddressesAllowed([address], false)) }).toEqual({
        address,
        error: LOCALHOST,
      });
    }
  });

  it('checks every resolved address: one bad address among good ones refuses the lot', () => {
    expect(() => assertAddressesAllowed([PUBLIC, '2606:2800:220:1:248:1893:25c8:1946'], false)).not.toThrow();
    expect(messageOf(() => assertAddressesAllowed([PUBLIC, '192.168.254.253'], false))).toBe(LOCAL);
    expect(messageOf(() => assertAddressesAllowed(['::ffff:10.254.253.252'], false))).toBe(LOCAL);
    expect(messageOf(() => assertAddressesAllowed(['fe80::1234%eth0'], false))).toBe(LINK_LOCAL);
    // Allowed local networks let private addresses through, never the metadata service.
    expect(() => assertAddressesAllowed(['10.0.0.1', '192.168.0.1', 'fd12::1'], true)).not.toThrow();
    expect(messageOf(() => assertAddressesAllowed(['10.0.0.1', '::ffff:a9fe:a9fe'], true))).toBe(METADATA);
    expect(messageOf(() => assertAddressesAllowed(['100.100.100.200'], true))).toBe(METADATA);
  });

  it('throws BlockedEndpointError, named so, for every refusal', async () => {
    const error = await assertEndpointAllowed('http://10.0.0.1/', { allowLocalNetwork: false }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BlockedEndpointError);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('BlockedEndpointError');
  });

  it('returns the addresses it checked, IPv4-mapped ones as IPv4', async () => {
    expect(await assertEndpointAllowed('http://[::ffff:5db8:d822]:9000/', { allowLocalNetwork: false })).toEqual([
      PUBLIC,
    ]);
    const lookupHost: LookupHost = async () => ['::FFFF:93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'];
    expect(await assertEndpointAllowed('https://s3.example.test/', { allowLocalNetwork: false, lookupHost })).toEqual([
      PUBLIC,
      '2606:2800:220:1:248:1893:25c8:1946',
    ]);
  });

  it('asks the resolver for the host name only: lower-cased, without brackets, port or trailing dot', async () => {
    const asked: string[] = [];
    const lookupHost: LookupHost = async (host) => {
      asked.push(host);
      return [PUBLIC];
    };
    await assertEndpointAllowed('https://user:pw@S3.Example.TEST.:8443/bucket?x=1', {
      allowLocalNetwork: false,
      lookupHost,
    });
    await assertEndpointAllowed('http://93.184.216.34/', { allowLocalNetwork: false, lookupHost }); // IP literals are not looked up
    expect(asked).toEqual(['s3.example.test']);
  });

  describe('a resolver that never answers', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    it('is given up on after 5 s', async () => {
      let outcome: string | undefined;
      const check = assertEndpointAllowed('http://s3.example.test/', {
        allowLocalNetwork: true,
        lookupHost: () => new Promise(() => {}),
      }).then(
        () => (outcome = 'allowed'),
        (err: Error) => (outcome = err.message),
      );
      await jest.advanceTimersByTimeAsync(4_999);
      expect(outcome).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      await check;
      expect(outcome).toBe('Host cannot be resolved or invalid');
    });
  });
});

describe('endpointUrlsToCheck', () => {
  it('adds the virtual-hosted name, keeping scheme, port and path', () => {
    expect(endpointUrlsToCheck('https://s3.example.test:9000/base', 'b1', false)).toEqual([
      'https://s3.example.test:9000/base',
      'https://b1.s3.example.test:9000/base',
    ]);
  });

  it('checks only the endpoint for IP literals (the SDK addresses them path-style) and for what is not a URL', () => {
    expect(endpointUrlsToCheck('http://[2606:2800:220:1:248:1893:25c8:1946]:9000/', 'b1', false)).toEqual([
      'http://[2606:2800:220:1:248:1893:25c8:1946]:9000/',
    ]);
    expect(endpointUrlsToCheck('http://10.0.0.1:9000', 'b1', false)).toEqual(['http://10.0.0.1:9000']);
    expect(endpointUrlsToCheck('not a url', 'b1', false)).toEqual(['not a url']);
  });
});

function messageOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof BlockedEndpointError ? err.message : `unexpected ${String(err)}`;
  }
  return undefined;
}
