import { getNetConfig, isNetworkAddress } from '@libp2p/utils'
import { Circuit } from '@multiformats/multiaddr-matcher'
import type { IsTrusted } from './relay-policy.ts'
import type { Config } from '../config/schema.ts'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { ConnectionGater, Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export type ReservationSlotsInit = Pick<Config['relay'], 'maxReservations' | 'reservedForTrusted' | 'maxReservationsPerIp'>

/**
 * Who may hold a relay reservation, so that throwaway identities cannot exhaust them:
 * - the last `reservedForTrusted` of `maxReservations` slots are for trusted peers
 *   (the `isTrusted` callback: allowlisted, or a verified member);
 * - untrusted peers hold at most `maxReservationsPerIp` reservations per IP address;
 * - an untrusted peer's reservation ends when its last connection to the relay does
 *   (circuit-relay-v2 would keep it for its 2-hour TTL).
 * Trusted peers are limited only by `maxReservations` (the reservation store's own check).
 * A refresh of a reservation a peer already holds is never refused.
 */
export class ReservationSlots {
  private readonly init: ReservationSlotsInit
  private readonly isTrusted: IsTrusted
  private node?: Libp2p
  private relay?: CircuitRelayService

  constructor (init: ReservationSlotsInit, isTrusted: IsTrusted) {
    this.init = init
    this.isTrusted = isTrusted
  }

  /** `gater` with its `denyInboundRelayReservation` extended by these rules. */
  gater<T extends Partial<ConnectionGater>> (gater: T): T {
    const base = gater.denyInboundRelayReservation
    return {
      ...gater,
      denyInboundRelayReservation: async (peer: PeerId) => (await base?.(peer)) === true || this.deny(peer)
    }
  }

  /** Starts following the node's disconnections, once the node and its relay service exist. */
  attach (node: Libp2p, relay: CircuitRelayService): void {
    this.node = node
    this.relay = relay
    node.addEventListener('peer:disconnect', event => { this.evictIfUntrusted(event.detail) })
  }

  /** true: refuse `peer`'s reservation request. */
  deny (peer: PeerId): boolean {
    const relay = this.relay
    if (relay == null || this.isTrusted(peer)) return false
    const reservations = relay.reservations
    if (reservations.has(peer)) return false
    let untrusted = 0
    const ip = this.ipOf(peer)
    let sameIp = 0
    for (const [holder, reservation] of reservations) {
      if (this.isTrusted(holder)) continue
      untrusted++
      if (ip != null && hostOf(reservation.addr) === ip) sameIp++
    }
    // at most half the reservations are held back, whatever maxReservations is
    const reserved = Math.min(this.init.reservedForTrusted, Math.floor(this.init.maxReservations / 2))
    if (untrusted >= this.init.maxReservations - reserved) return true
    return ip != null && sameIp >= this.init.maxReservationsPerIp
  }

  private evictIfUntrusted (peer: PeerId): void {
    const reservation = this.relay?.reservations.get(peer)
    if (reservation == null || this.isTrusted(peer)) return
    // fire its own expiry now: the store's abort listener removes it, and no old timer is left
    // to remove a later reservation of the same peer
    reservation.signal.reset(0)
  }

  /** The IP address `peer` reaches this node from (not through a relay). */
  private ipOf (peer: PeerId): string | undefined {
    for (const connection of this.node?.getConnections(peer) ?? []) {
      const host = hostOf(connection.remoteAddr)
      if (host != null) return host
    }
    return undefined
  }
}

function hostOf (address: Multiaddr): string | undefined {
  if (Circuit.matches(address) || !isNetworkAddress(address)) return undefined
  return getNetConfig(address).host
}
