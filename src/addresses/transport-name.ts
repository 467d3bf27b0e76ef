import { Circuit, QUIC, QUIC_V1, TCP, WebRTC, WebRTCDirect, WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher'
import type { Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * The transport a connection runs on, named as users know it. A WebRTC connection's
 * address names the relay its signalling went through, so WebRTC is checked first.
 */
export function transportOf (address: Multiaddr): string {
  if (WebRTC.matches(address) || WebRTCDirect.matches(address)) return 'webrtc'
  if (Circuit.matches(address)) return 'relay'
  if (QUIC_V1.matches(address) || QUIC.matches(address)) return 'quic'
  if (WebSockets.matches(address) || WebSocketsSecure.matches(address)) return 'websockets'
  if (TCP.matches(address)) return 'tcp'
  return address.getComponents().map(component => component.name).join('/')
}

/** A TCP connection: its address is one the node can dial again (a WebRTC connection's is not). */
export function isTcp (connection: Connection): boolean {
  return transportOf(connection.remoteAddr) === 'tcp'
}
