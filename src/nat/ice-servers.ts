import type { Multiaddr } from '@multiformats/multiaddr'

export interface IceServer {
  urls: string
}

/**
 * The ICE servers for a new WebRTC connection: the configured ones (`nat.iceServers`),
 * then a STUN server on each relay this node holds a reservation on. A relay answers
 * STUN on UDP at the port number of its TCP address (protocols/relay/SPEC.md), so the
 * address the node reached its relay on names the STUN server too, and a private mesh
 * needs no outside one.
 */
export function iceServers (configured: string[], relayAddresses: Multiaddr[]): IceServer[] {
  const servers = new Set(configured)
  for (const address of relayAddresses) {
    const components = address.getComponents()
    const host = components.find(c => c.name === 'ip4' || c.name === 'ip6')
    const port = components.find(c => c.name === 'tcp')?.value
    if (host == null || port == null) continue
    servers.add(`stun:${host.name === 'ip6' ? `[${host.value}]` : host.value}:${port}`)
  }
  return [...servers].map(urls => ({ urls }))
}
