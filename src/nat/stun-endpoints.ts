import { tcpHostPort } from '../addresses/host-port.ts'
import type { HostPort } from '../addresses/host-port.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Where a relay answers STUN: UDP on the host and port of each of its TCP listen
 * addresses, so that a peer finds the STUN server at the address it reaches the relay on
 * (ice-servers.ts). A listen port of 0 takes the port its TCP listener was given.
 */
export function stunEndpoints (listen: Multiaddr[], bound: Multiaddr[]): HostPort[] {
  const endpoints: HostPort[] = []
  for (const address of listen) {
    const tcp = tcpHostPort(address)
    if (tcp == null) continue
    const port = tcp.port !== 0 ? tcp.port : bound.map(tcpHostPort).find(b => b != null && b.family === tcp.family)?.port
    if (port != null) endpoints.push({ host: tcp.host, port })
  }
  return endpoints
}
