const FAMILY = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm
const NAME_OF_LINE = /^(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*?)(?=[\s{])/

/**
 * Prometheus's naming rules, which `promtool check metrics` enforces, applied to the few
 * metrics agentmesh does not name (the rest of the text passes through untouched):
 *
 * - `_total` is for counters. libp2p's gauges `libp2p_kad_dht_operations_total`,
 *   `libp2p_kad_dht_routing_table_kad_bucket_total` and
 *   `libp2p_tcp_inbound_connections_total` are served as `libp2p_kad_dht_operations`,
 *   `libp2p_kad_dht_routing_table_kad_buckets` (`_bucket` is for histograms) and
 *   `libp2p_tcp_inbound_connections`; prom-client's `nodejs_active_{handles,requests,resources}_total`
 *   are left out, since `nodejs_active_handles` and the others give the same numbers by type.
 * - Times are in seconds. libp2p's adaptive-timeout gauges `*_milliseconds` (such as
 *   `libp2p_connection_monitor_ping_time_milliseconds`) are served as `*_seconds`, their
 *   values divided by 1000.
 */
export function conventionalNames (text: string): string {
  const families = new Set<string>()
  const renames = new Map<string, { name: string, scale: number } | null>()
  for (const [, name] of text.matchAll(FAMILY)) families.add(name as string)
  for (const [, name, type] of text.matchAll(FAMILY)) {
    if (name == null || type === 'counter' || type === 'histogram' || type === 'summary') continue
    if (name.endsWith('_total')) {
      const plain = name.slice(0, -'_total'.length).replace(/_(bucket|count|sum)$/, '_$1s')
      renames.set(name, families.has(plain) ? null : { name: plain, scale: 1 })
    } else if (name.endsWith('_milliseconds')) {
      const seconds = `${name.slice(0, -'_milliseconds'.length)}_seconds`
      renames.set(name, families.has(seconds) ? null : { name: seconds, scale: 1 / 1000 })
    }
  }
  if (renames.size === 0) return text
  const lines: string[] = []
  for (const line of text.split('\n')) {
    const name = NAME_OF_LINE.exec(line)?.[1]
    const rename = name == null ? undefined : renames.get(name)
    if (name == null || rename === undefined) {
      lines.push(line)
    } else if (rename != null) {
      const renamed = rename.name + line.slice(line.indexOf(name) + name.length)
      lines.push(line.startsWith('#') ? line.replace(name, rename.name) : rename.scale === 1 ? renamed : scaleValue(renamed, rename.scale))
    }
  }
  return lines.join('\n')
}

/** `name{labels} value` with the value multiplied by `scale` (NaN and infinities stay as they are). */
function scaleValue (line: string, scale: number): string {
  const space = line.lastIndexOf(' ')
  const value = Number(line.slice(space + 1))
  return Number.isFinite(value) ? `${line.slice(0, space)} ${value * scale}` : line
}
