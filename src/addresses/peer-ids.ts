import { CODE_P2P, CODE_P2P_CIRCUIT } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The peer an address leads to: its last `/p2p/<id>`. */
export function peerIdOf (address: Multiaddr): string | undefined {
  return address.getComponents().findLast(component => component.code === CODE_P2P)?.value
}

/** The relay a relayed address goes through: the `/p2p/<id>` before its `/p2p-circuit`, if it has one. */
export function relayOf (address: Multiaddr): string | undefined {
  const components = address.getComponents()
  const circuit = components.findIndex(component => component.code === CODE_P2P_CIRCUIT)
  return components.slice(0, Math.max(circuit, 0)).findLast(component => component.code === CODE_P2P)?.value
}
