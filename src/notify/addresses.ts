/**
 * Which IP addresses an outbound request must never reach unless the operator allows it:
 * loopback, private, link-local, shared (CGNAT), multicast, reserved and documentation ranges
 * (IANA special-purpose registries, RFC 6890). Covers IPv4-mapped IPv6 (net.BlockList matches
 * those against the IPv4 rules) and IPv6 forms that embed an IPv4 address (NAT64, 6to4).
 */
import net from 'node:net';

const V4_BLOCKED: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // shared address space (CGNAT)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. cloud metadata 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved + broadcast
];

const V6_BLOCKED: [string, number][] = [
  ['::', 96], // unspecified, loopback, deprecated IPv4-compatible
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
];

const blocked = new net.BlockList();
for (const [a, p] of V4_BLOCKED) blocked.addSubnet(a, p, 'ipv4');
for (const [a, p] of V6_BLOCKED) blocked.addSubnet(a, p, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (accepts `::` and a dotted IPv4 tail). */
export function ipv6Groups(address: string): number[] | null {
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // A dotted IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
    if (!net.isIPv4(last)) return null;
    const b = last.split('.').map(Number);
    const hi = (b[0]! << 8) | b[1]!;
    const lo = (b[2]! << 8) | b[3]!;
    text = `${text.slice(0, lastColon + 1)}${hi.toString(16)}:${lo.toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : null;
}

function v4FromGroups(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** True when an outbound request to `address` (an IP literal) must be refused. */
export function isForbiddenAddress(address: string): boolean {
  if (net.isIPv4(address)) return blocked.check(address, 'ipv4');
  if (!net.isIPv6(address)) return true; // not an IP at all: refuse rather than guess
  if (blocked.check(address, 'ipv6')) return true;
  const g = ipv6Groups(address);
  if (g === null) return true;
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that the gateway will reach.
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0) {
    return blocked.check(v4FromGroups(g[6]!, g[7]!), 'ipv4');
  }
  if (g[0] === 0x2002) return blocked.check(v4FromGroups(g[1]!, g[2]!), 'ipv4');
  return false;
}
