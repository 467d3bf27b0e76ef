import {
  decodeRevocationList, exchangeHello, HANDSHAKE_TIMEOUT_MS, HANDSHAKES_PER_MINUTE_PER_PEER, MEMBERSHIP_PROTOCOL, pushMessage, readMessage,
  revocationsKey, sendMessage, MembershipError
} from '../../protocols/membership/index.ts'
import { describeError } from '../errors.ts'
import { dialPeer } from '../node/dial-peer.ts'
import type { Membership } from './membership.ts'
import type { Certificate, MembershipMessage, RevocationList } from '../../protocols/membership/index.ts'
import type { Logger } from '../log/logger.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { PeerTrust } from './peer-trust.ts'
import type { EventBus } from '../events/index.ts'
import type { AbortOptions, Connection, PeerId, Stream } from '@libp2p/interface'

/** How often expiries are enforced and the DHT is asked for newer revocation lists. */
const EXPIRY_CHECK_MS = 5_000
const DHT_REFRESH_MS = 5 * 60_000
/** A bootstrap node reconnecting often asks the DHT at most this often. */
const DHT_REFRESH_MIN_GAP_MS = 30_000
/** Streams of the membership protocol one connection may have open at once, each way: a hello and a push or two. */
const MAX_STREAMS = 8

/** How a membership hello ended, for the metrics. */
export type HandshakeOutcome = 'verified' | 'none' | 'refused' | 'rate_limited' | 'failed'

export interface MembershipServiceComponents {
  node: MeshNode
  membership: Membership
  peers: PeerTrust
  log: Logger
  events?: EventBus
  /** told how each hello ended (the metrics) */
  handshakeOutcome?(outcome: HandshakeOutcome): void
}

/**
 * The libp2p side of membership (`/agentmesh/membership/1.0.0`, protocols/membership/SPEC.md):
 * a hello on each new connection between members, answered before the first tunnel on
 * that connection is; revocation lists pushed member to member and kept in the DHT;
 * reissued certificates pushed to their holders; revoked and expired members cut off.
 */
export class MembershipService {
  private readonly components: MembershipServiceComponents
  /** the hello of each connection, by connection id: done or in flight */
  private readonly handshakes = new Map<string, Promise<void>>()
  /** when each peer's recent inbound hellos arrived, for the rate limit */
  private readonly recentHellos = new Map<string, number[]>()
  /** `peer outcome` pairs already logged: each outcome once per peer, not once per retry */
  private readonly logged = new Set<string>()
  private timers: NodeJS.Timeout[] = []
  private lastDhtRefresh = 0

  constructor (components: MembershipServiceComponents) {
    this.components = components
  }

  async start (): Promise<void> {
    const { node } = this.components
    await node.handle(MEMBERSHIP_PROTOCOL, (stream, connection) => {
      this.respond(stream, connection).catch((err: any) => {
        this.logOnce(connection.remotePeer, `hello failed: ${describeError(err)}`, 'debug')
        stream.abort(err)
      })
    }, { runOnLimitedConnection: true, maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS })
    node.addEventListener('connection:open', this.onOpen)
    node.addEventListener('connection:close', this.onClose)
    this.timers = [
      setInterval(() => { void this.enforce() }, EXPIRY_CHECK_MS),
      setInterval(() => { void this.refreshFromDht() }, DHT_REFRESH_MS)
    ]
  }

  stop (): void {
    const { node } = this.components
    node.removeEventListener('connection:open', this.onOpen)
    node.removeEventListener('connection:close', this.onClose)
    for (const timer of this.timers) clearInterval(timer)
  }

  /**
   * Whether a stream from `peer` on `connection` may be read: allowlisted or a member,
   * after the hello of that connection if one is needed (and still possible). Answered at
   * once, without a promise, whenever no hello is needed: the path of every tunnel.
   */
  admitsTunnelsFrom (peer: PeerId, connection: Connection): boolean | Promise<boolean> {
    const { peers, membership } = this.components
    if (peers.isTrusted(peer)) return true
    if (membership.networks().length === 0) return false
    return this.handshake(connection).then(() => peers.isTrusted(peer))
  }

  /** Dials `peer` when needed and makes sure a hello has run on the connection (forwards call this before a tunnel to a peer not yet verified). */
  async verify (peer: PeerId, options: AbortOptions): Promise<void> {
    if (this.components.peers.isTrusted(peer) || this.components.membership.networks().length === 0) return
    const connection = await dialPeer(this.components.node, peer, options)
    await this.handshake(connection)
  }

  /** Runs the hello of `connection` once, however many callers ask; never rejects. */
  async handshake (connection: Connection): Promise<void> {
    let pending = this.handshakes.get(connection.id)
    if (pending == null) {
      pending = this.openHello(connection)
      this.handshakes.set(connection.id, pending)
    }
    return pending
  }

  /**
   * A new hello on each open connection (to `peer`, or to everyone): after this node
   * joined a network or got a renewed certificate, and when a peer's certificate stopped
   * counting (a renewal revokes the serial it showed), so both sides learn what is valid now.
   */
  async rehello (peer?: PeerId): Promise<void> {
    const connections = this.components.node.getConnections(peer).filter(connection => connection.status === 'open')
    await Promise.all(connections.map(async connection => {
      this.handshakes.delete(connection.id)
      await this.handshake(connection)
    }))
  }

  /** After `revoke` or a newer list from a peer: tell the members, keep it in the DHT, cut off who it revokes. */
  async spread (lists: RevocationList[], from?: PeerId): Promise<void> {
    const { node, log, membership, events } = this.components
    for (const list of lists) {
      const network = membership.networks().find(candidate => candidate.revocations === list)
      if (network != null) events?.emit('membership.changed', { change: 'revocations.updated', network: network.name, version: Number(list.version) })
      for (const connection of node.getConnections()) {
        const peer = connection.remotePeer
        if (from?.equals(peer) === true || !this.components.membership.isMember(peer)) continue
        pushMessage(connection, { type: 'revocations', lists: [list] }).catch(err => {
          log.debug({ peer: peer.toString(), err: describeError(err) }, 'cannot push a revocation list')
        })
      }
      void this.putInDht(list)
    }
    await this.enforce()
  }

  /** After `renew`: the new certificate goes to its holder if connected (else it gets it from a new token). */
  async deliver (certificate: Certificate): Promise<boolean> {
    const connection = this.components.node.getConnections(certificate.peerId).find(c => c.status === 'open')
    if (connection == null) return false
    try {
      await pushMessage(connection, { type: 'certificate', certificate })
      return true
    } catch (err) {
      this.components.log.warn({ peer: certificate.peerId.toString(), err: describeError(err) }, 'cannot deliver the renewed certificate')
      return false
    }
  }

  /** `refreshFromDht` unless it ran in the last DHT_REFRESH_MIN_GAP_MS: after each (re)connection to a bootstrap node. */
  refreshFromDhtSoon (): void {
    if (Date.now() - this.lastDhtRefresh < DHT_REFRESH_MIN_GAP_MS) return
    void this.refreshFromDht()
  }

  /** Asks the DHT for each network's revocation list and applies the newer ones (at start, after joining, and every few minutes). */
  async refreshFromDht (options: AbortOptions = {}): Promise<void> {
    const { node, membership, log } = this.components
    this.lastDhtRefresh = Date.now()
    for (const network of membership.networks()) {
      try {
        for await (const event of node.services.dht.get(revocationsKey(network.key), { signal: options.signal ?? AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS * 2) })) {
          if (event.name !== 'VALUE') continue
          const applied = await membership.acceptRevocations([decodeRevocationList(event.value)])
          if (applied.length > 0) {
            log.info({ network: network.name, version: applied[0].version.toString() }, 'newer revocation list from the DHT')
            await this.spread(applied)
          }
        }
      } catch (err) {
        log.debug({ network: network.name, err: describeError(err) }, 'no revocation list from the DHT')
      }
    }
  }

  private readonly onOpen = (event: CustomEvent<Connection>): void => {
    const connection = event.detail
    // the dialer says hello first; the other side asks only when it needs an answer (a tunnel)
    if (connection.direction !== 'outbound' || this.components.membership.networks().length === 0) return
    void this.handshake(connection)
  }

  private readonly onClose = (event: CustomEvent<Connection>): void => {
    this.handshakes.delete(event.detail.id)
  }

  private async openHello (connection: Connection): Promise<void> {
    const { membership } = this.components
    if (membership.networks().length === 0) return
    const peer = connection.remotePeer
    try {
      const answer = await exchangeHello(connection, { type: 'hello', ...membership.helloContent() })
      if (answer.type !== 'hello') throw new Error(`the peer answered a hello with ${answer.type}`)
      await this.accept(peer, answer)
    } catch (err: any) {
      // peers outside membership (stock libp2p, DHT-only nodes) do not speak the protocol
      if (err?.name === 'UnsupportedProtocolError') return
      this.components.handshakeOutcome?.('failed')
      this.logOnce(peer, `hello failed: ${describeError(err)}`, err instanceof MembershipError ? 'warn' : 'debug')
    }
  }

  private async respond (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer
    if (!this.withinRate(peer)) {
      this.components.handshakeOutcome?.('rate_limited')
      this.logOnce(peer, 'too many membership handshakes: streams reset', 'warn')
      stream.abort(new Error('too many membership handshakes'))
      return
    }
    const message = await readMessage(stream)
    if (message.type === 'hello') {
      await this.accept(peer, message)
      this.handshakes.set(connection.id, Promise.resolve())
      await sendMessage(stream, { type: 'hello', ...this.components.membership.helloContent() })
      return
    }
    await stream.close({ signal: AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS) }).catch(() => {})
    if (message.type === 'revocations') {
      const applied = await this.components.membership.acceptRevocations(message.lists)
      if (applied.length > 0) {
        this.components.log.info({ from: peer.toString(), lists: applied.map(list => list.version.toString()) }, 'newer revocation list received')
        await this.spread(applied, peer)
      }
      return
    }
    if (!this.components.membership.isMember(peer)) return
    const network = await this.components.membership.acceptCertificate(message.certificate)
    if (network == null) return
    this.components.log.info({ network: network.name, from: peer.toString(), groups: network.certificate.groups }, 'renewed certificate received')
    this.components.events?.emit('membership.changed', { change: 'certificate.renewed', network: network.name, groups: network.certificate.groups })
    await this.rehello()
  }

  private async accept (peer: PeerId, hello: MembershipMessage & { type: 'hello' }): Promise<void> {
    const outcome = await this.components.membership.acceptHello(peer, hello)
    const { events, handshakeOutcome } = this.components
    handshakeOutcome?.(outcome.accepted.length > 0 ? 'verified' : outcome.refused.length > 0 ? 'refused' : 'none')
    for (const { name, networkName: network, groups } of outcome.accepted) {
      if (this.logOnce(peer, `member ${name} of ${network} (groups ${groups.join(',') || 'none'})`, 'info')) {
        events?.emit('membership.changed', { change: 'member.verified', network, peer: peer.toString(), name, groups })
      }
    }
    for (const { network, reason } of outcome.refused) {
      if (this.logOnce(peer, `certificate for ${network} refused: ${reason}`, 'warn')) {
        events?.emit('membership.changed', { change: 'member.refused', network, peer: peer.toString(), reason })
      }
    }
    if (outcome.newLists.length > 0) await this.spread(outcome.newLists, peer)
  }

  /**
   * Hangs up on peers whose membership has ended and that are trusted in no other way:
   * revoked by peer id at once; a peer whose certificate expired or whose serial was
   * revoked after a fresh hello, which a renewed certificate survives.
   */
  private async enforce (): Promise<void> {
    const { node, peers, membership, log } = this.components
    for (const peer of membership.dropInvalidSessions()) {
      if (node.getConnections(peer).length === 0) continue
      if (!peers.isBanned(peer)) await this.rehello(peer)
      if (peers.isTrusted(peer)) continue
      log.warn({ peer: peer.toString() }, 'membership ended (revoked or expired): closing its connections and tunnels')
      this.components.events?.emit('membership.changed', { change: 'member.removed', network: '*', peer: peer.toString(), reason: 'revoked or expired' })
      // aborted, not closed: a graceful close would end its tunnels with a FIN, which a
      // client takes for a complete reply; an abort resets them, as a lost path does
      for (const connection of node.getConnections(peer)) connection.abort(new Error('the peer\'s membership ended'))
    }
    for (const connection of node.getConnections()) {
      if (peers.isBanned(connection.remotePeer)) connection.abort(new Error('the peer is revoked'))
    }
  }

  private async putInDht (list: RevocationList): Promise<void> {
    const { node, log } = this.components
    try {
      for await (const _event of node.services.dht.put(revocationsKey(list.networkKey), list.bytes, { signal: AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS * 2) })) {}
      log.info({ version: list.version.toString() }, 'revocation list stored in the DHT')
    } catch (err) {
      log.debug({ version: list.version.toString(), err: describeError(err) }, 'cannot store the revocation list in the DHT')
    }
  }


  private withinRate (peer: PeerId): boolean {
    const now = Date.now()
    const recent = (this.recentHellos.get(peer.toString()) ?? []).filter(at => now - at < 60_000)
    recent.push(now)
    this.recentHellos.set(peer.toString(), recent)
    if (this.recentHellos.size > 10_000) this.recentHellos.clear()
    return recent.length <= HANDSHAKES_PER_MINUTE_PER_PEER
  }

  /** Logs an outcome the first time it happens for this peer; true when it did. */
  private logOnce (peer: PeerId, outcome: string, level: 'debug' | 'info' | 'warn'): boolean {
    const key = `${peer} ${outcome}`
    if (this.logged.has(key)) return false
    if (this.logged.size > 10_000) this.logged.clear()
    this.logged.add(key)
    this.components.log[level]({ peer: peer.toString() }, outcome)
    return true
  }
}
