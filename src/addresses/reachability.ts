import { isPrivate } from '@libp2p/utils'
import { Circuit, WebRTC } from '@multiformats/multiaddr-matcher'
import { relayOf } from './peer-ids.ts'
import type { NodeAddress } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export type Reachability = 'public' | 'private' | 'unknown'

/**
 * Whether peers on the internet can dial this node: `public` once a public address is
 * verified (a public listen address, or an observed one that autonat confirmed),
 * `unknown` while a public address awaits verification, otherwise `private` (only
 * private, loopback or relayed addresses). A relayed address (with or without `/webrtc`)
 * starts with the relay's public address and is always "verified", so it is no evidence.
 */
export function reachability (addresses: NodeAddress[]): Reachability {
  const candidates = addresses.filter(({ multiaddr }) => isPublicDirect(multiaddr))
  if (candidates.some(address => address.verified)) return 'public'
  return candidates.length > 0 ? 'unknown' : 'private'
}

/** A public address that is not relayed: where peers on the internet dial a node directly. */
export function isPublicDirect (address: Multiaddr): boolean {
  return !isPrivate(address) && !Circuit.matches(address) && !WebRTC.matches(address)
}

/** The relays holding a reservation for this node, read off its `/p2p-circuit` addresses. */
export function relaysOf (addresses: NodeAddress[]): string[] {
  const relays = new Set<string>()
  for (const { multiaddr } of addresses) {
    const relay = relayOf(multiaddr)
    if (relay != null) relays.add(relay)
  }
  return [...relays]
}
