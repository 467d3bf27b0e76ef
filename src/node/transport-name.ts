import type { Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * The transport a connection runs on, named as users know it. A WebRTC connection's
 * address names the relay its signalling went through, so WebRTC is checked first.
 */
export function transportOf (address: Multiaddr): string {
  const names = address.getComponents().map(component => component.name)
  if (names.includes('webrtc') || names.includes('webrtc-direct')) return 'webrtc'
  if (names.includes('p2p-circuit')) return 'relay'
  if (names.includes('quic-v1')) return 'quic'
  if (names.includes('ws') || names.includes('wss')) return 'websockets'
  return names.includes('tcp') ? 'tcp' : names.join('/')
}

/** A TCP connection: its address is one the node can dial again (a WebRTC connection's is not). */
export function isTcp (connection: Connection): boolean {
  return transportOf(connection.remoteAddr) === 'tcp'
}
