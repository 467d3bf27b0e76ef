import { formatHostPort, tcpHostPort } from '../addresses/host-port.ts'
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
    const tcp = tcpHostPort(address)
    if (tcp != null) servers.add(`stun:${formatHostPort(tcp)}`)
  }
  return [...servers].map(urls => ({ urls }))
}
