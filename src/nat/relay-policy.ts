import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import type { Config } from '../config/schema.ts'
import type { CircuitRelayService, RelayReservation } from '@libp2p/circuit-relay-v2'
import type { ConnectionGater, PeerId } from '@libp2p/interface'

export type IsTrusted = (peer: PeerId) => boolean

/**
 * The circuit relay v2 server of a `--relay` node. Every reservation starts with the
 * limits for untrusted peers (libp2p's defaults are 2 minutes and 128 KiB per relayed
 * connection); `liftLimitsForTrusted` then removes them from the reservations of peers
 * this node trusts, so a relayed tunnel to them can carry an SSH session or a large copy.
 */
export function relayServer (config: Config['relay']): ReturnType<typeof circuitRelayServer> {
  return circuitRelayServer({
    reservations: {
      maxReservations: config.maxReservations,
      applyDefaultLimit: true,
      // the server enforces the duration in milliseconds (circuit-relay-v2 4.x)
      defaultDurationLimit: config.untrustedDurationSeconds * 1000,
      defaultDataLimit: BigInt(config.untrustedDataBytes)
    }
  })
}

/**
 * circuit-relay-v2 applies one limit to every reservation and has no hook to choose it
 * per peer. The server stores each reservation in its public `reservations` map before it
 * answers the client with the stored limit and before any circuit uses it, so dropping the
 * limit as the entry is stored decides both. A refresh stores the entry again, so a peer
 * trusted (or untrusted) after reserving gets its new limits at its next refresh.
 */
export function liftLimitsForTrusted (relay: CircuitRelayService, isTrusted: IsTrusted): void {
  const reservations = relay.reservations
  const set = reservations.set.bind(reservations)
  reservations.set = (peer: PeerId, reservation: RelayReservation) => {
    if (isTrusted(peer)) reservation.limit = undefined
    return set(peer, reservation)
  }
}

/**
 * With `relay.untrusted = "deny"` the relay serves trusted peers only: untrusted peers
 * can neither reserve a slot nor open a circuit. A circuit's limits are those of the
 * reservation it uses, so with "limited" an untrusted peer reaching a trusted one gets
 * the trusted peer's (unlimited) circuit: whom it talks to is the destination's choice.
 */
export function relayGater (config: Config['relay'], isTrusted: IsTrusted): Partial<ConnectionGater> {
  if (!config.enabled || config.untrusted !== 'deny') return {}
  return {
    denyInboundRelayReservation: async peer => !isTrusted(peer),
    denyOutboundRelayedConnection: async source => !isTrusted(source)
  }
}
