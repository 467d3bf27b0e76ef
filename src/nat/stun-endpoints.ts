import type { Multiaddr } from '@multiformats/multiaddr'

export interface Endpoint {
  host: string
  port: number
}

/**
 * Where a relay answers STUN: UDP on the host and port of each of its TCP listen
 * addresses, so that a peer finds the STUN server at the address it reaches the relay on
 * (ice-servers.ts). A listen port of 0 takes the port its TCP listener was given.
 */
export function stunEndpoints (listen: Multiaddr[], bound: Multiaddr[]): Endpoint[] {
  const endpoints: Endpoint[] = []
  for (const address of listen) {
    const tcp = tcpEndpoint(address)
    if (tcp == null) continue
    const port = tcp.port !== 0 ? tcp.port : bound.map(tcpEndpoint).find(b => b != null && b.family === tcp.family)?.port
    if (port != null) endpoints.push({ host: tcp.host, port })
  }
  return endpoints
}

function tcpEndpoint (address: Multiaddr): (Endpoint & { family: string }) | undefined {
  const components = address.getComponents()
  const ip = components.find(c => c.name === 'ip4' || c.name === 'ip6')
  const port = components.find(c => c.name === 'tcp')?.value
  if (ip?.value == null || port == null || components.some(c => c.name === 'p2p-circuit')) return undefined
  return { host: ip.value, port: Number(port), family: ip.name }
}
