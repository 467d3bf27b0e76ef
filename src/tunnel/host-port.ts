export interface HostPort {
  host: string
  port: number
}

/**
 * `host:port`, `[v6]:port`, or with `defaultHost`, a bare `port`. Ports are 1-65535,
 * or 0 where `allowZero` (a listener that takes any free port).
 */
export function parseHostPort (text: string, options: { defaultHost?: string, allowZero?: boolean } = {}): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d+)$/.exec(text) ?? (options.defaultHost != null ? /^()()(\d+)$/.exec(text) : null)
  const port = Number(match?.[3])
  if (match == null || !Number.isInteger(port) || port > 65535 || (port === 0 && options.allowZero !== true)) {
    throw new Error(`"${text}" is not ${options.defaultHost != null ? '[host:]port' : 'host:port'} (e.g. 127.0.0.1:8080)`)
  }
  return { host: (match[1] ?? '') || (match[2] ?? '') || (options.defaultHost ?? ''), port }
}

export function formatHostPort ({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
