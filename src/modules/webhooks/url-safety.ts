import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Address ranges a webhook may not reach unless WEBHOOK_ALLOW_PRIVATE=true (SPEC §12), by what they are. */
const REFUSED_RANGES: [kind: string, subnets: [string, number, 'ipv4' | 'ipv6'][]][] = [
  [
    'unspecified',
    [
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ],
  ],
  [
    'loopback',
    [
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ],
  ],
  [
    'private',
    [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
    ],
  ],
  ['CGNAT', [['100.64.0.0', 10, 'ipv4']]],
  [
    'link-local',
    [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ],
  ],
  ['unique-local', [['fc00::', 7, 'ipv6']]],
  [
    'multicast',
    [
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ],
  ],
  ['reserved', [['240.0.0.0', 4, 'ipv4']]],
];

const RULES = REFUSED_RANGES.map(([kind, subnets]) => {
  const list = new BlockList();
  for (const [network, prefix, family] of subnets) list.addSubnet(network, prefix, family);
  return { kind, list };
});

/**
 * IPv6 addresses that carry an IPv4 address, whatever it is: the IPv4 rules
 * would otherwise be a prefix away. (Checked for IPv6 input only: BlockList
 * matches IPv4 input against IPv6 rules in its mapped form.)
 */
const IPV4_IN_IPV6 = new BlockList();
IPV4_IN_IPV6.addSubnet('::ffff:0:0', 96, 'ipv6');
IPV4_IN_IPV6.addSubnet('::', 96, 'ipv6');

/** What kind of refused address `ip` is (`loopback`, `private`, …), or null when webhooks may reach it. */
export function refusedKind(ip: string): string | null {
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const kind = RULES.find((rule) => rule.list.check(ip, type))?.kind;
  if (kind) return kind;
  return type === 'ipv6' && IPV4_IN_IPV6.check(ip, type) ? 'IPv4-mapped or IPv4-compatible' : null;
}

/** A webhook URL that may not be called: `reason` says why, for a 422 or an attempt's error. */
export class RefusedUrlError extends Error {}

/** Where an attempt connects: the address that passed the check, never a second lookup. */
export interface CheckedTarget {
  url: URL;
  /** The host as written (the TLS server name and the Host header). */
  hostname: string;
  address: string;
  family: 4 | 6;
}

export interface TargetOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  lookup?: (hostname: string) => Promise<{ address: string; family: number }[]>;
}

const systemLookup = (hostname: string) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Resolves a webhook URL's host and checks every address it has: a host that
 * is or resolves to a refused address (see REFUSED_RANGES) is refused, unless
 * `allowPrivate`. The URL parser has already turned numeric forms
 * (`2130706433`, `0x7f.1`, `127.1`, `[::ffff:127.0.0.1]`) into their
 * canonical address. Answers the first address, to connect to.
 */
export async function checkTarget(raw: string, options: TargetOptions): Promise<CheckedTarget> {
  const url = parseWebhookUrl(raw);
  if (!url) throw new RefusedUrlError('url must be an http:// or https:// URL');
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(hostname)
    ? [{ address: hostname, family: isIP(hostname) }]
    : await resolve(hostname, options);
  if (!options.allowPrivate) {
    for (const { address } of addresses) {
      const kind = refusedKind(address);
      if (kind) throw new RefusedUrlError(`url's host is or resolves to ${address}, a ${kind} address`);
    }
  }
  const [first] = addresses;
  return { url, hostname, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** The URL when it is an absolute http(s) URL with a host, else null. */
export function parseWebhookUrl(raw: string): URL | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' ? url : null;
}

async function resolve(
  hostname: string,
  { lookup = systemLookup, timeoutMs }: TargetOptions,
): Promise<{ address: string; family: number }[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RefusedUrlError(`url's host did not resolve within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const addresses = await Promise.race([lookup(hostname), timeout]);
    if (addresses.length === 0) throw new RefusedUrlError(`url's host ${hostname} has no address`);
    return addresses;
  } catch (error) {
    if (error instanceof RefusedUrlError) throw error;
    throw new RefusedUrlError(
      `url's host ${hostname} could not be resolved (${(error as { code?: string }).code ?? 'error'})`,
    );
  } finally {
    clearTimeout(timer);
  }
}
