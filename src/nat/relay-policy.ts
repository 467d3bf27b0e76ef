import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import type { Config } from '../config/schema.ts'
import type { CircuitRelayService, RelayReservation } from '@libp2p/circuit-relay-v2'
import type { Connection, ConnectionGater, PeerId } from '@libp2p/interface'

export type IsTrusted = (peer: PeerId) => boolean

/**
 * The circuit relay v2 server of a `--relay` node. A circuit gets the limits for untrusted
 * peers (libp2p's defaults are 2 minutes and 128 KiB per relayed connection) unless the
 * relay trusts both of its ends; see `decideLimitsPerCircuit`.
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

interface RelayServerInternals {
  reservationStore: { get(peer: PeerId): RelayReservation | undefined }
  handleConnect(args: { connection: Connection }, options: unknown): Promise<void>
}

/**
 * circuit-relay-v2 fixes a circuit's limits from the destination's reservation, stored
 * when the reservation was made: a peer trusted afterwards (a user can only trust a
 * node once it has started and printed its id) would stay limited until its refresh.
 * Here the limits are decided as each circuit opens, from the relay's trust in both
 * ends right then (allowlisted, or a verified member of one of its networks): a trust,
 * membership or revocation change applies to the next circuit at once. The server reads
 * the reservation synchronously at the start of its CONNECT handler, so the handler sees
 * a copy carrying the limits of this circuit; the reservation answer (the limits a
 * reserving peer is told) follows the same trust when the reservation is stored.
 */
export function decideLimitsPerCircuit (relay: CircuitRelayService, isTrusted: IsTrusted): void {
  const reservations = relay.reservations
  const set = reservations.set.bind(reservations)
  reservations.set = (peer: PeerId, reservation: RelayReservation) => {
    if (isTrusted(peer)) reservation.limit = undefined
    return set(peer, reservation)
  }
  const server = relay as unknown as RelayServerInternals
  const store = server.reservationStore
  const get = store.get.bind(store)
  const handleConnect = server.handleConnect.bind(server)
  server.handleConnect = async (args, options) => {
    const source = args.connection.remotePeer
    store.get = (destination: PeerId) => {
      const reservation = get(destination)
      if (reservation == null) return undefined
      return { ...reservation, limit: isTrusted(source) && isTrusted(destination) ? undefined : reservation.limit ?? untrustedLimit(relay) }
    }
    // handleConnect reads the reservation before its first await: restore at once, so
    // that concurrent circuits each see their own ends
    try {
      return handleConnect(args, options)
    } finally {
      store.get = get
    }
  }
}

/** The server's default limit, as it gives every untrusted reservation. */
function untrustedLimit (relay: CircuitRelayService): RelayReservation['limit'] {
  const store = (relay as unknown as { reservationStore: { defaultDurationLimit: number, defaultDataLimit: bigint } }).reservationStore
  return { duration: store.defaultDurationLimit, data: store.defaultDataLimit }
}

/**
 * With `relay.untrusted = "deny"` the relay serves trusted peers only: untrusted peers
 * can neither reserve a slot nor open a circuit. With "limited" they can, and their
 * circuits carry the untrusted limits, whichever end they are.
 */
export function relayGater (config: Config['relay'], isTrusted: IsTrusted): Partial<ConnectionGater> {
  if (!config.enabled || config.untrusted !== 'deny') return {}
  return {
    denyInboundRelayReservation: async peer => !isTrusted(peer),
    denyOutboundRelayedConnection: async source => !isTrusted(source)
  }
}
