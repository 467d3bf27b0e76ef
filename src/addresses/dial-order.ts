import { circuitRelayAddressesLast, loopbackAddressLast, publicAddressesFirst, reliableTransportsFirst } from '@libp2p/utils'
import { WebRTC } from '@multiformats/multiaddr-matcher'
import type { Address } from '@libp2p/interface'

/**
 * The order in which a peer's addresses are dialled: libp2p's default (loopback last,
 * public first, relayed last, certified and TCP first), except that WebRTC addresses
 * come last of all. They look public (they start with the relay's address) but need a
 * relayed connection and ICE first, and libp2p dials addresses one after another: a first
 * connection takes the relay at once, and DirectPaths then upgrades it in the background.
 */
export function dialOrder (a: Address, b: Address): -1 | 0 | 1 {
  return webrtcLast(a, b) ||
    loopbackAddressLast(a.multiaddr, b.multiaddr) ||
    publicAddressesFirst(a.multiaddr, b.multiaddr) ||
    circuitRelayAddressesLast(a.multiaddr, b.multiaddr) ||
    certifiedFirst(a, b) ||
    reliableTransportsFirst(a.multiaddr, b.multiaddr)
}

function webrtcLast (a: Address, b: Address): -1 | 0 | 1 {
  return order(WebRTC.matches(a.multiaddr), WebRTC.matches(b.multiaddr))
}

function certifiedFirst (a: Address, b: Address): -1 | 0 | 1 {
  return order(!a.isCertified, !b.isCertified)
}

/** -1 puts `a` first: the one for which `later` holds goes after the other */
function order (aLater: boolean, bLater: boolean): -1 | 0 | 1 {
  return aLater === bLater ? 0 : aLater ? 1 : -1
}
