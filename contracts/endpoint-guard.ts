import { lookup as lookupCallback, type LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';

// SSRF guard for a user-supplied S3 endpoint, after GitLab's Gitlab::HTTP_V2::UrlBlocker (same checks, same
// messages), plus one rule GitLab does not have: cloud metadata services are refused even when local networks are
// allowed, because the dev stack allows them (MinIO on 127.0.0.1) and a metadata service hands out credentials.
// Host names are resolved and every address is checked, so a name pointing at a private address is refused too.
// This runs when the export is created. A name can resolve differently a moment later (DNS rebinding), so every
// connection the API makes to the endpoint (the bucket check) goes through guardedLookup, which applies the same
// rules to the addresses it actually connects to; so does every connection of the worker's S3 clients when it
// uploads (db/bucket-client.ts).

export type LookupHost = (host: string) => Promise<string[]>;

export class BlockedEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockedEndpointError';
  }
}

const LOOKUP_TIMEOUT_MS = 5_000;

export const defaultLookupHost: LookupHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);
const METADATA_ADDRESSES = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean, ...
  '169.254.170.2', // AWS ECS task credentials
  'fd00:ec2::254', // AWS over IPv6
  '100.100.100.200', // Alibaba Cloud
]);

const blockList = (v4: string[], v6: string[]) => {
  const list = new BlockList();
  for (const cidr of v4) addSubnet(list, cidr, 'ipv4');
  for (const cidr of v6) addSubnet(list, cidr, 'ipv6');
  return list;
};
function addSubnet(list: BlockList, cidr: string, type: 'ipv4' | 'ipv6') {
  const [net, bits] = cidr.split('/');
  list.addSubnet(net!, Number(bits), type);
}

// GitLab's checks, in its order, each with its message; skipped when local networks are allowed.
const LOCAL_RULES: { list: BlockList; message: string }[] = [
  { list: blockList(['0.0.0.0/8'], ['::/128']), message: 'Requests to localhost are not allowed' },
  { list: blockList(['127.0.0.0/8'], ['::1/128']), message: 'Requests to loopback addresses are not allowed' },
  {
    list: blockList(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], ['fc00::/7', 'fec0::/10']),
    message: 'Requests to the local network are not allowed',
  },
  { list: blockList(['169.254.0.0/16'], ['fe80::/10']), message: 'Requests to the link local network are not allowed' },
  { list: blockList(['100.64.0.0/10'], []), message: 'Requests to the shared address space are not allowed' },
  { list: blockList(['255.255.255.255/32'], []), message: 'Requests to the limited broadcast address are not allowed' },
];

const METADATA_MESSAGE = 'Requests to the cloud metadata endpoint are not allowed';

/**
 * The URLs the S3 client will actually contact. Without path_style it puts the bucket in the host name
 * (virtual-hosted style: http://<bucket>.<host>), a name the user's DNS may point anywhere, so that host is checked
 * as well. IP endpoints are always addressed path-style by the SDK.
 */
export function endpointUrlsToCheck(endpoint: string, bucket: string, pathStyle: boolean): string[] {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return [endpoint]; // assertEndpointAllowed reports it
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (pathStyle || isIP(host) !== 0 || host === '') return [endpoint];
  const virtual = new URL(url.toString());
  virtual.hostname = `${bucket}.${url.hostname}`;
  return [endpoint, virtual.toString()];
}

/**
 * Throws BlockedEndpointError with GitLab's message when the endpoint may not be used; returns the addresses it
 * resolved to. The endpoint's scheme and syntax were validated before (configuration.ts).
 */
export async function assertEndpointAllowed(
  endpoint: string,
  options: { allowLocalNetwork: boolean; lookupHost?: LookupHost },
): Promise<string[]> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new BlockedEndpointError('URI is invalid');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new BlockedEndpointError('Only allowed schemes are http, https');
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (host === '') throw new BlockedEndpointError('Host cannot be resolved or invalid');
  if (METADATA_HOSTS.has(host)) throw new BlockedEndpointError(METADATA_MESSAGE);

  if (!options.allowLocalNetwork && (host === 'localhost' || host.endsWith('.localhost'))) {
    throw new BlockedEndpointError('Requests to localhost are not allowed');
  }

  const addresses = (isIP(host) ? [host] : await resolve(host, options.lookupHost ?? defaultLookupHost)).map(unmapIpv4);
  assertAddressesAllowed(addresses, options.allowLocalNetwork);
  return addresses;
}

/** The address rules alone, for addresses already resolved (throws BlockedEndpointError). */
export function assertAddressesAllowed(resolved: string[], allowLocalNetwork: boolean): void {
  const unmapped = resolved.map(unmapIpv4);
  // An IPv6 address can carry an IPv4 one (NAT64, 6to4, IPv4-compatible): both must pass.
  const addresses = [...unmapped, ...unmapped.map(embeddedIpv4).filter((a): a is string => a !== undefined)];
  if (!allowLocalNetwork) {
    if (addresses.some((a) => ownAddresses().has(a)))
      throw new BlockedEndpointError('Requests to localhost are not allowed');
    for (const rule of LOCAL_RULES) {
      if (addresses.some((a) => rule.list.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4')))
        throw new BlockedEndpointError(rule.message);
    }
  }
  if (addresses.some((a) => METADATA_ADDRESSES.has(a))) throw new BlockedEndpointError(METADATA_MESSAGE);
}

/**
 * A `lookup` for http(s).Agent: resolves as Node does, then refuses the connection (with BlockedEndpointError) when
 * an address breaks the rules, so a name that was harmless when checked cannot be rebound to a private address
 * before the connection is made.
 */
export function guardedLookup(options: { allowLocalNetwork: boolean }): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    lookupCallback(hostname, { ...lookupOptions, all: true }, (err, found: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      try {
        if (found.length === 0) throw new BlockedEndpointError('Host cannot be resolved or invalid');
        if (METADATA_HOSTS.has(hostname.toLowerCase().replace(/\.$/, '')))
          throw new BlockedEndpointError(METADATA_MESSAGE);
        assertAddressesAllowed(
          found.map((a) => a.address),
          options.allowLocalNetwork,
        );
      } catch (blocked) {
        return callback(blocked as NodeJS.ErrnoException, '', 0);
      }
      if (lookupOptions.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, found);
      return callback(null, found[0]!.address, found[0]!.family);
    });
  };
}

/** The IPv4 address inside an IPv6 one, for the forms that route to it. */
function embeddedIpv4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const g = ipv6Groups(address);
  if (!g) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(6) && !(g[6] === 0 && g[7]! <= 1)) return v4(g[6]!, g[7]!); // IPv4-compatible ::a.b.c.d
  if (zeros(4) && g[4] === 0xffff && g[5] === 0) return v4(g[6]!, g[7]!); // IPv4-translated ::ffff:0:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(g[6]!, g[7]!); // NAT64 64:ff9b::/96
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!); // 6to4 2002:aabb:ccdd::/48
  return undefined;
}

function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return groups.map((x) => parseInt(x, 16));
}

async function resolve(host: string, lookupHost: LookupHost): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const addresses = await Promise.race([
      lookupHost(host),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('lookup timed out')), LOOKUP_TIMEOUT_MS);
      }),
    ]);
    if (addresses.length === 0 || addresses.some((a) => isIP(unmapIpv4(a)) === 0)) throw new Error('no usable address');
    return addresses;
  } catch {
    throw new BlockedEndpointError('Host cannot be resolved or invalid');
  } finally {
    clearTimeout(timer);
  }
}

/** "::ffff:127.0.0.1" is 127.0.0.1: checked as IPv4 so the IPv4 rules apply to it. */
function unmapIpv4(address: string): string {
  const lower = address.toLowerCase().replace(/%.*$/, ''); // no zone id ("fe80::1%eth0")
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return lower;
}

/** The host's own interface addresses count as localhost, as in GitLab's validate_localhost. */
function ownAddresses(): Set<string> {
  return new Set(
    Object.values(networkInterfaces())
      .flat()
      .filter((i) => i !== undefined)
      .map((i) => unmapIpv4(i.address)),
  );
}
