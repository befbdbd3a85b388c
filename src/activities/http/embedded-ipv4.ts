/**
 * IPv4 addresses an IPv6 address carries, so the SSRF guard can hold them to the IPv4 rules:
 * IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, IPv4-compatible `::a.b.c.d`,
 * NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::` and Teredo `2001:0:SSSS:SSSS:…:~CCCC:~CCCC`
 * (server and XOR-ed client address).
 * @example embeddedIpv4('64:ff9b::7f00:1') // ['127.0.0.1']
 */
export function embeddedIpv4(address: string): string[] {
  const g = ipv6Groups(address);
  if (!g) return [];
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const v4 = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  const last = v4(g[6] ?? 0, g[7] ?? 0);
  if (zero(0, 5) && (g[5] === 0xffff || g[5] === 0)) return [last];
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return [last];
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return [last];
  if (g[0] === 0x2002) return [v4(g[1] ?? 0, g[2] ?? 0)];
  if (g[0] === 0x2001 && g[1] === 0)
    return [v4(g[2] ?? 0, g[3] ?? 0), v4(~(g[6] ?? 0) & 0xffff, ~(g[7] ?? 0) & 0xffff)];
  return [];
}

/** The eight 16-bit groups of an IPv6 address (zone id ignored), or undefined if it is not one. */
export function ipv6Groups(address: string): number[] | undefined {
  let text = address
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '')
    .toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    if ([a, b, c, d].some((n) => n === undefined || n > 255)) return undefined;
    text = `${text.slice(0, dotted.index)}${(((a ?? 0) << 8) | (b ?? 0)).toString(16)}:${(((c ?? 0) << 8) | (d ?? 0)).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) => (part ? part.split(':') : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  if (!groups.every((x) => /^[0-9a-f]{1,4}$/.test(x))) return undefined;
  return groups.map((x) => parseInt(x, 16));
}
