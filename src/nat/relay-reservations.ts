import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import { PeerMap, PeerSet } from '@libp2p/peer-collections'
import { CODE_P2P } from '@multiformats/multiaddr'
import { reachability, relaysOf } from '../addresses/reachability.ts'
import { isTcp } from '../addresses/transport-name.ts'
import type { Logger } from '../log/logger.ts'
import type { Connection, IdentifyResult, Libp2pEvents, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, ConnectionManager, TransportManager } from '@libp2p/interface-internal'

export interface RelayReservationsInit {
  /** how many relays to hold a reservation on while this node is not publicly reachable */
  want: number
  log: Logger
}

export interface RelayReservationsComponents {
  addressManager: AddressManager
  connectionManager: ConnectionManager
  transportManager: TransportManager
  events: TypedEventTarget<Libp2pEvents>
}

interface RetryState {
  retryAt: number
  retryMs: number
}

/** A relay that refused or failed a reservation is asked again after this, doubling each time. */
const RETRY_FIRST_MS = 10_000
/** ... up to this: each failed attempt leaves an idle listener object in libp2p's transport manager */
const RETRY_MAX_MS = 10 * 60_000
const CHECK_INTERVAL_MS = 5_000
const RELAY_DIAL_TIMEOUT_MS = 5_000

/**
 * Keeps a node that peers cannot dial reachable through relays: it holds reservations on
 * `want` relays it is connected to (bootstrap nodes that offer relay, and relays met
 * later), which libp2p advertises as `/p2p-circuit` addresses, and replaces a reservation
 * when its relay goes away (redialling known relays).
 *
 * Each reservation is a "configured" circuit listen on one relay. libp2p's own discovery
 * (listening on a bare `/p2p-circuit`) is not used: while fewer relays exist than it
 * wants, it runs DHT random walks back to back for as long as the node lives.
 */
export class RelayReservations implements Startable {
  private readonly want: number
  private readonly components: RelayReservationsComponents
  private readonly log: Logger
  /** relays seen through identify, with when to ask each again after a failure */
  private readonly relays = new PeerMap<RetryState>()
  private readonly pending = new PeerSet()
  private timer?: ReturnType<typeof setInterval>

  constructor (components: RelayReservationsComponents, init: RelayReservationsInit) {
    this.components = components
    this.want = init.want
    this.log = init.log
  }

  readonly [Symbol.toStringTag] = 'agentmesh/relay-reservations'

  start (): void {
    if (this.want === 0) return
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('self:peer:update', this.check)
    this.timer = setInterval(this.tick, CHECK_INTERVAL_MS)
    this.timer.unref()
  }

  stop (): void {
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('self:peer:update', this.check)
    clearInterval(this.timer)
  }

  private readonly onIdentify = (event: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = event.detail
    if (!protocols.includes(RELAY_V2_HOP_CODEC)) return
    // a relay met (again) is asked at once: one that failed before may have been restarted
    this.relays.set(peerId, { retryAt: 0, retryMs: RETRY_FIRST_MS })
    this.check()
  }

  private readonly tick = (): void => {
    if (this.missing() > 0) this.redialOne().catch(err => { this.log.debug({ err: err.message }, 'could not redial a relay') })
    this.check()
  }

  /** How many more reservations the node wants; none once it is publicly reachable. */
  private missing (): number {
    const addresses = this.components.addressManager.getAddressesWithMetadata()
    if (reachability(addresses) === 'public') return 0
    return this.want - relaysOf(addresses).length - this.pending.size
  }

  private readonly check = (): void => {
    let missing = this.missing()
    if (missing <= 0) return
    const held = new Set(relaysOf(this.components.addressManager.getAddressesWithMetadata()))
    const now = Date.now()
    for (const [relay, state] of this.relays) {
      if (missing === 0) return
      if (held.has(relay.toString()) || this.pending.has(relay) || state.retryAt > now) continue
      // the reservation is asked for at the address of this connection: a WebRTC one has none to dial
      const connection = this.components.connectionManager.getConnections(relay)
        .find(connection => isTcp(connection) && connection.status === 'open')
      if (connection == null) continue
      missing--
      void this.reserve(relay, connection)
    }
  }

  private async reserve (relay: PeerId, connection: Connection): Promise<void> {
    this.pending.add(relay)
    const state = this.relays.get(relay)
    const address = connection.remoteAddr.decapsulateCode(CODE_P2P).encapsulate(`/p2p/${relay}/p2p-circuit`)
    try {
      await this.components.transportManager.listen([address])
      this.log.info({ relay: relay.toString() }, 'holding a reservation on relay')
      if (state != null) Object.assign(state, { retryAt: 0, retryMs: RETRY_FIRST_MS })
    } catch (err: any) {
      this.log.warn({ relay: relay.toString(), err: reservationFailure(err) }, 'relay refused or failed a reservation')
      if (state != null) backOff(state)
    } finally {
      this.pending.delete(relay)
    }
  }

  /**
   * Dials one known relay without a TCP connection (none, or only WebRTC), so that a
   * reservation can be made or renewed on it. Only relays not held are redialled.
   */
  private async redialOne (): Promise<void> {
    const held = new Set(relaysOf(this.components.addressManager.getAddressesWithMetadata()))
    const now = Date.now()
    for (const [relay, state] of this.relays) {
      const connections = this.components.connectionManager.getConnections(relay)
      if (held.has(relay.toString()) || state.retryAt > now || connections.some(isTcp)) continue
      try {
        // force: libp2p would otherwise hand back the WebRTC connection
        await this.components.connectionManager.openConnection(relay, { signal: AbortSignal.timeout(RELAY_DIAL_TIMEOUT_MS), force: connections.length > 0 })
      } catch (err) {
        backOff(state)
        throw err
      }
      return
    }
  }
}

/**
 * The cause inside libp2p's listen error, whose own message is advice about listen
 * addresses, e.g. "reservation failed with status PERMISSION_DENIED" (a relay that does
 * not trust this node, with `relay.untrusted = "deny"`).
 */
function reservationFailure (err: Error): string {
  return /p2p-circuit: (?:\w*Error: )?([^\n]+)/.exec(err.message)?.[1] ?? err.message
}

/** The next attempt on a relay that failed: later each time, up to RETRY_MAX_MS. */
function backOff (state: RetryState): void {
  Object.assign(state, { retryAt: Date.now() + state.retryMs, retryMs: Math.min(state.retryMs * 2, RETRY_MAX_MS) })
}

export function relayReservations (init: RelayReservationsInit): (components: RelayReservationsComponents) => RelayReservations {
  return components => new RelayReservations(components, init)
}
