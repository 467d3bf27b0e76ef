import { CODE_P2P } from '@multiformats/multiaddr'
import { setTimeout as sleep } from 'node:timers/promises'
import { describeError } from '../errors.ts'
import { isPublicDirect, reachability } from '../addresses/reachability.ts'
import { peerIdOf } from '../addresses/peer-ids.ts'
import { transportOf } from '../addresses/transport-name.ts'
import { probeConnection } from './connection-probe.ts'
import { WEBRTC_SIGNALING_PROTOCOL } from './lazy-webrtc.ts'
import type { Logger } from '../log/logger.ts'
import type { Connection, IdentifyResult, Libp2pEvents, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface DirectPathsInit {
  log: Logger
}

export interface DirectPathsComponents {
  addressManager: AddressManager
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
}

/** pauses before the second and third attempts: NAT state and a peer's addresses settle */
const RETRY_PAUSES_MS = [5_000, 20_000]
/** a TCP dial to a public address answers in well under this, or not at all */
const REVERSAL_TIMEOUT_MS = 5_000
/** ICE gathering plus connectivity checks through two NATs */
const HOLE_PUNCH_TIMEOUT_MS = 20_000
const SWEEP_INTERVAL_MS = 5_000
/** a live WebRTC connection echoes a ping in one round trip */
const PROBE_TIMEOUT_MS = 5_000

/**
 * Replaces relayed connections by direct ones. On a relayed connection, once identify
 * has told us the peer's addresses and protocols:
 *
 * 1. Connection reversal: if the peer listens on a public address, dial it (over TCP);
 *    this is the unilateral upgrade of DCUtR, and covers a NATed node and a public one.
 * 2. Hole punching: the side that dialled through the relay (unless it is publicly
 *    reachable itself, and so reached by the peer's reversal) opens a WebRTC connection,
 *    signalled over the relayed connection; ICE learns each side's public UDP mapping
 *    from the relays' STUN responders and punches through both NATs. Symmetric NATs
 *    (a new mapping per destination) defeat it, and the pair stays relayed.
 *
 * Every new WebRTC connection is pinged once, and aborted if it does not answer: when one
 * side gives a hole punch up just as the other completes it, @libp2p/webrtc leaves the
 * completing side a connection whose far end is gone (js-libp2p #2646), which would
 * otherwise swallow new tunnels until ICE consent checks fail half a minute later.
 *
 * libp2p prefers a direct connection for new streams, so new tunnels take the direct
 * path as soon as it is up, while tunnels on the relayed connection run to their end: a
 * relayed connection is closed only once it carries no streams. (@libp2p/dcutr closes
 * it at once, cutting them, which is why it is not used; its TCP simultaneous open also
 * cannot work from Node, whose dials never leave from the listening port.)
 */
export class DirectPaths implements Startable {
  private readonly components: DirectPathsComponents
  private readonly log: Logger
  private readonly upgrading = new Set<string>()
  /** WebRTC connections awaiting their ping */
  private readonly probing = new WeakSet<Connection>()
  private readonly controller = new AbortController()
  private sweeper?: ReturnType<typeof setInterval>

  constructor (components: DirectPathsComponents, init: DirectPathsInit) {
    this.components = components
    this.log = init.log
  }

  readonly [Symbol.toStringTag] = 'agentmesh/direct-paths'

  start (): void {
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('connection:open', this.onOpen)
    this.sweeper = setInterval(this.closeDrainedRelayedConnections, SWEEP_INTERVAL_MS)
    this.sweeper.unref()
  }

  stop (): void {
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('connection:open', this.onOpen)
    clearInterval(this.sweeper)
    this.controller.abort()
  }

  private readonly onIdentify = (event: CustomEvent<IdentifyResult>): void => {
    const { peerId, connection, listenAddrs, protocols } = event.detail
    if (connection.direct || this.upgrading.has(peerId.toString())) return
    this.upgrading.add(peerId.toString())
    this.upgrade(peerId, connection, listenAddrs, protocols)
      .catch(err => { this.log.debug({ peer: peerId.toString(), err: err.message }, 'direct path attempt ended') })
      .finally(() => this.upgrading.delete(peerId.toString()))
  }

  private readonly onOpen = (event: CustomEvent<Connection>): void => {
    const connection = event.detail
    if (transportOf(connection.remoteAddr) !== 'webrtc') return
    const signal = AbortSignal.any([AbortSignal.timeout(PROBE_TIMEOUT_MS), this.controller.signal])
    this.probing.add(connection)
    probeConnection(connection, signal).then(() => {
      this.probing.delete(connection)
    }, err => {
      if (this.controller.signal.aborted || connection.status !== 'open') return
      this.log.warn({ peer: connection.remotePeer.toString(), err: describeError(err) }, 'dropping a WebRTC connection that does not answer a ping')
      connection.abort(new Error('half-open WebRTC connection: no answer to a ping'))
    })
  }

  /** False while a new WebRTC connection awaits its ping (and for good, if it never answers). */
  settled (connection: Connection): boolean {
    return !this.probing.has(connection)
  }

  private async upgrade (peer: PeerId, relayed: Connection, listenAddrs: Multiaddr[], protocols: string[]): Promise<void> {
    const started = Date.now()
    const publicAddrs = listenAddrs
      .filter(isPublicDirect)
      .map(address => peerIdOf(address) != null ? address : address.encapsulate(`/p2p/${peer}`))
    // a publicly reachable node leaves it to the peer, whose connection reversal reaches it
    const canPunch = relayed.direction === 'outbound' && protocols.includes(WEBRTC_SIGNALING_PROTOCOL) &&
      reachability(this.components.addressManager.getAddressesWithMetadata()) !== 'public'
    for (let attempt = 0; attempt <= RETRY_PAUSES_MS.length; attempt++) {
      if (attempt > 0) await sleep(RETRY_PAUSES_MS[attempt - 1], undefined, { signal: this.controller.signal })
      if (this.direct(peer) != null || relayed.status !== 'open') return
      const connection = (publicAddrs.length > 0 ? await this.dial(publicAddrs, REVERSAL_TIMEOUT_MS) : undefined) ??
        (canPunch ? await this.dial([webrtcAddress(relayed)], HOLE_PUNCH_TIMEOUT_MS) : undefined)
      if (connection != null) {
        this.log.info({ peer: peer.toString(), transport: transportOf(connection.remoteAddr), seconds: (Date.now() - started) / 1000 }, 'direct path up')
        return
      }
    }
    if (canPunch || publicAddrs.length > 0) this.log.info({ peer: peer.toString() }, 'no direct path: staying on the relay')
  }

  private async dial (addresses: Multiaddr[], timeoutMs: number): Promise<Connection | undefined> {
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.controller.signal])
      const connection = await this.components.connectionManager.openConnection(addresses, { signal, force: true })
      return connection.direct ? connection : undefined
    } catch (err: any) {
      this.log.debug({ addresses: addresses.map(String), err: err.message }, 'direct dial failed')
      return undefined
    }
  }

  private direct (peer: PeerId): Connection | undefined {
    return this.components.connectionManager.getConnections(peer).find(c => c.direct && c.status === 'open')
  }

  private readonly closeDrainedRelayedConnections = (): void => {
    for (const connection of this.components.connectionManager.getConnections()) {
      if (connection.direct || connection.streams.length > 0 || this.direct(connection.remotePeer) == null) continue
      connection.close().catch(err => { connection.abort(err) })
    }
  }
}

/** `/<relay>/p2p-circuit/p2p/<peer>` -> `/<relay>/p2p-circuit/webrtc/p2p/<peer>` */
function webrtcAddress (relayed: Connection): Multiaddr {
  return relayed.remoteAddr.decapsulateCode(CODE_P2P).encapsulate(`/webrtc/p2p/${relayed.remotePeer}`)
}

export function directPaths (init: DirectPathsInit): (components: DirectPathsComponents) => DirectPaths {
  return components => new DirectPaths(components, init)
}
