import { isIP, isIPv4 } from 'node:net'
import { getNetConfig } from '@libp2p/utils'
import { TCP } from '@multiformats/multiaddr-matcher'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Server } from 'node:net'

export interface HostPort {
  host: string
  port: number
}

/**
 * `host:port`, `[v6]:port`, or with `defaultHost`, a bare `port`. Ports are 1-65535,
 * or 0 where `allowZero` (a listener that takes any free port). With `checkHost`, the
 * host must be an IP address or a possible host name (what users type is checked; state
 * saved before the check existed still loads).
 */
export function parseHostPort (text: string, options: { defaultHost?: string, allowZero?: boolean, checkHost?: boolean } = {}): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d+)$/.exec(text) ?? (options.defaultHost != null ? /^()()(\d+)$/.exec(text) : null)
  const port = Number(match?.[3])
  if (match == null || !Number.isInteger(port) || port > 65535 || (port === 0 && options.allowZero !== true)) {
    throw new Error(`"${text}" is not ${options.defaultHost != null ? '[host:]port' : 'host:port'} (e.g. 127.0.0.1:8080)`)
  }
  const host = (match[1] ?? '') || (match[2] ?? '') || (options.defaultHost ?? '')
  if (options.checkHost === true && !isPossibleHost(host)) throw new Error(`"${host}" in "${text}" is neither an IP address nor a possible host name`)
  return { host, port }
}

/** A DNS name as RFC 1123 allows it: dot-separated labels of letters, digits and inner dashes, 1-63 long, 253 in all. */
const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i

/** An IP address literal or a host name that could resolve; `"a b"` or `"x_y!"` cannot. */
export function isPossibleHost (host: string): boolean {
  return isIP(host) !== 0 || HOST_NAME.test(host)
}

/** 127.0.0.0/8, ::1, `localhost`: only this host can connect there. */
export function isLoopbackHost (host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  return isIPv4(host) && host.startsWith('127.')
}

/** The IP address and port of a TCP address (`/ip4|ip6/<host>/tcp/<port>`, maybe `/p2p/<id>`); undefined for any other address. */
export function tcpHostPort (address: Multiaddr): (HostPort & { family: 'ip4' | 'ip6' }) | undefined {
  if (!TCP.exactMatch(address)) return undefined
  const config = getNetConfig(address)
  if ((config.type !== 'ip4' && config.type !== 'ip6') || config.port == null) return undefined
  return { host: config.host, port: config.port, family: config.type }
}

export function formatHostPort ({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** Listens on `address` (port 0 takes a free one); resolves with the address bound, rejects with the listen error. */
export async function listenOn (server: Server, { host, port }: HostPort): Promise<HostPort> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const bound = server.address()
  return { host, port: bound != null && typeof bound === 'object' ? bound.port : port }
}
