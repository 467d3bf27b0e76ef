import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { peerIdFromString } from '@libp2p/peer-id'
import { ProtocolType, SERVICE_NAME_PATTERN, statusName } from '../../protocols/envelope/index.ts'
import { openTunnel, TUNNEL_PROTOCOL, TunnelInterruptedError, TunnelRefusedError } from '../../protocols/tunnel/index.ts'
import { UserError, describeError } from '../errors.ts'
import { dialPeer, newPeerStream } from '../node/dial-peer.ts'
import { readJsonFile, writeJsonFile } from '../state/json-file.ts'
import { formatHostPort, isLoopbackHost, listenOn, parseHostPort } from '../addresses/host-port.ts'
import { TunnelStats } from '../metrics/tunnel-stats.ts'
import { PeerBackoff } from './peer-backoff.ts'
import type { Logger } from '../log/logger.ts'
import type { PeerDialer } from '../node/dial-peer.ts'
import type { AbortOptions, Connection, PeerId, Stream } from '@libp2p/interface'
import type { HostPort } from '../addresses/host-port.ts'
import type { TunnelObserver } from '../metrics/tunnel-stats.ts'
import type { ForwardRecord, ForwardView } from '../control/api.ts'
import type { EventBus } from '../events/index.ts'
import type { Server, Socket } from 'node:net'

interface Forward {
  record: ForwardRecord
  server: Server
  stats: TunnelStats
  listening: boolean
}

interface Opened {
  tunnel: { stream: Stream, connection: Connection }
  vni: number
}

interface Failure {
  kind: string
  reason: string
}

export class ForwardError extends UserError {
  override name = 'ForwardError'
}

export interface ForwardManagerInit {
  file: string
  dialTimeoutMs: number
  maxOutboundStreams: number
  /** a half-closed tunnel idle this long is reset both ways */
  halfClosedIdleMs: number
  /** a tunnel stalled by backpressure with no byte moving this long is reset both ways */
  stalledMs: number
}

/** Whom this node may tunnel to, and in which network: the allowlist and the memberships. */
export interface PeerAccess {
  /** the peer id a name stands for (an allowlisted name, a member's certificate name, a member record in the DHT) */
  resolvePeer(nameOrPeerId: string, network?: string): Promise<string | undefined>
  /** the members that publish `service`, nearest first */
  providers(service: string, network?: string): Promise<PeerId[]>
  /** a provider that could not be reached: new connections take the next one */
  providerFailed(service: string, network: string | undefined, peer: PeerId): void
  /** makes sure this node has heard a not yet verified peer's certificates (dialling it when needed) */
  verify(peer: PeerId, options: AbortOptions): Promise<void>
  /** the VNI of a tunnel to `peer`, or undefined when the peer is neither allowlisted nor a member of that network */
  vniFor(peer: PeerId, network?: string): number | undefined
}

export interface ForwardManagerComponents {
  node: PeerDialer
  access: PeerAccess
  log: Logger
  /** hears the forwards' tunnel counters (the metrics) */
  tunnelObserver?: TunnelObserver
  /** told of each failed connection (`tunnel.failed`) */
  events?: EventBus
  /** where the one line per failed local connection goes (a log that limits repeats), else `log` */
  failureLog?: { warn(context: object, message: string): void }
  /** the tunnel memory budget the forwards' streams count against */
  memory?: { track(peer: PeerId, stream: Stream): { release(): void } | undefined }
}

/**
 * Local port forwards: each accepted TCP connection becomes one tunnel stream to
 * `<peer>/<service>`. Persisted in `forwards.json` and restored at start.
 */
export class ForwardManager {
  private readonly init: ForwardManagerInit
  private readonly components: ForwardManagerComponents
  private readonly forwards = new Map<string, Forward>()
  private readonly backoff: PeerBackoff

  constructor (components: ForwardManagerComponents, init: ForwardManagerInit) {
    this.components = components
    this.init = init
    this.backoff = new PeerBackoff({ dial: async peer => dialPeer(components.node, peer), log: components.log })
  }

  /** Restores the saved forwards; one whose address cannot be bound is kept, and logged. */
  async start (): Promise<void> {
    for (const record of await readJsonFile<ForwardRecord[]>(this.init.file, [])) {
      const forward = this.create(record)
      try {
        await this.listen(forward)
      } catch (err: any) {
        this.components.log.error({ listen: record.listen }, `cannot restore forward: ${err.message}`)
      }
      this.forwards.set(record.listen, forward)
    }
  }

  async stop (): Promise<void> {
    this.backoff.stop()
    await Promise.all([...this.forwards.values()].map(async forward => close(forward.server)))
  }

  /**
   * `listen` is `[host:]port` (host 127.0.0.1 by default); `target` is `<peer>/<service>`
   * where the peer is a peer id, a name (allowlisted, or a member's), or `*` for any
   * member that publishes the service. As OpenSSH's `ssh -L`, a forward listens on
   * loopback only unless `gateway` (`--gateway`, `-g`) allows other hosts to use the tunnel.
   */
  async add (listen: string, target: string, options: { network?: string, map?: string, gateway?: boolean } = {}): Promise<ForwardView> {
    const slash = target.lastIndexOf('/')
    const [peerText, service] = [target.slice(0, slash), target.slice(slash + 1)]
    if (slash < 1 || !SERVICE_NAME_PATTERN.test(service)) throw new ForwardError(`"${target}" is not <peer>/<service>`)
    const peer = peerText === '*' ? '*' : await this.components.access.resolvePeer(peerText, options.network) ?? peerText
    if (peer !== '*') {
      try {
        peerIdFromString(peer)
      } catch {
        throw new ForwardError(`"${peerText}" is neither a peer id nor the name of a trusted peer or a member`)
      }
    }
    const host = listenAddress(listen, true)
    const address = formatHostPort(host)
    if (!isLoopbackHost(host.host) && options.gateway !== true) throw new ForwardError(gatewayRefusal(address))
    if (this.forwards.has(address)) throw new ForwardError(`${address} is already forwarded: unforward it first`)
    const forward = this.create({
      listen: address,
      peer,
      service,
      ...(options.network != null && { network: options.network }),
      ...(peer !== '*' && peer !== peerText && { name: peerText }),
      ...(options.map != null && { map: options.map }),
      ...(options.gateway === true && !isLoopbackHost(host.host) && { gateway: true })
    })
    await this.listen(forward)
    this.forwards.set(forward.record.listen, forward)
    await this.save()
    return view(forward)
  }

  async remove (listen: string): Promise<boolean> {
    const key = formatHostPort(listenAddress(listen, false))
    const forward = this.forwards.get(key)
    if (forward == null) return false
    this.forwards.delete(key)
    await close(forward.server)
    await this.save()
    return true
  }

  /** Removes the forwards of a `map`; returns how many there were. */
  async removeMap (map: string): Promise<number> {
    const owned = [...this.forwards.values()].filter(forward => forward.record.map === map)
    for (const forward of owned) {
      this.forwards.delete(forward.record.listen)
      await close(forward.server)
    }
    if (owned.length > 0) await this.save()
    return owned.length
  }

  list (): ForwardView[] {
    return [...this.forwards.values()].map(view)
  }

  private create (record: ForwardRecord): Forward {
    const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true })
    const forward: Forward = { record, server, stats: new TunnelStats({ service: record.service, direction: 'outbound' }, this.components.tunnelObserver), listening: false }
    server.on('connection', socket => {
      this.carry(forward, socket).catch(err => {
        this.components.log.error({ err, listen: record.listen }, 'forward connection failed')
        socket.destroy()
      })
    })
    return forward
  }

  private async listen (forward: Forward): Promise<void> {
    const { host, port } = parseHostPort(forward.record.listen, { allowZero: true })
    // a record saved before --gateway existed, or edited by hand: not opened to the network silently
    if (!isLoopbackHost(host) && forward.record.gateway !== true) throw new ForwardError(gatewayRefusal(forward.record.listen))
    const bound = await listenOn(forward.server, { host, port }).catch(err => {
      throw new ForwardError(`cannot listen on ${forward.record.listen}: ${err.code ?? err.message}`)
    })
    forward.record.listen = formatHostPort(bound)
    forward.listening = true
  }

  /** One local connection: a tunnel stream to the peer, or a prompt close with the failure counted and logged. */
  private async carry (forward: Forward, socket: Socket): Promise<void> {
    const { record } = forward
    const stats = forward.stats.tunnel()
    const { log, access } = this.components
    const context = { listen: record.listen, peer: record.peer, service: record.service }
    const fail = (kind: string, reason: string): void => {
      stats.failed(kind)
      const lines = this.components.failureLog ?? log
      lines.warn({ ...context, status: kind }, `forwarded connection closed: ${reason}`)
      this.components.events?.emit('tunnel.failed', { ...context, kind, reason })
      socket.destroy()
    }
    let opened: Opened | Failure | undefined
    if (record.peer === '*') {
      // any provider will do: one that cannot be reached gives way to the next, before a byte is sent
      const providers = await access.providers(record.service, record.network)
      if (providers.length === 0) return fail('peer_unreachable', `no member publishes ${record.service} (or none answers)`)
      for (const provider of providers) {
        opened = await this.open(forward, provider)
        if ('tunnel' in opened || opened.kind !== 'peer_unreachable') break
        access.providerFailed(record.service, record.network, provider)
      }
    } else {
      const peerId = record.name == null ? record.peer : await access.resolvePeer(record.name, record.network) ?? record.peer
      opened = await this.open(forward, peerIdFromString(peerId))
    }
    if (opened == null || !('tunnel' in opened)) return fail(opened?.kind ?? 'peer_unreachable', opened?.reason ?? 'no peer to tunnel to')
    const { tunnel, vni } = opened
    const memory = this.components.memory?.track(tunnel.connection.remotePeer, tunnel.stream)
    if (this.components.memory != null && memory == null) {
      tunnel.stream.abort(new ForwardError('the tunnel memory budget is spent'))
      return fail('overloaded', 'the tunnel memory budget (tunnels.maxBufferedBytes) is nearly spent: try again later')
    }
    const trace = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: 0 }
    try {
      await openTunnel(tunnel.stream, tunnel.connection, socket, { service: record.service, vni, protocolType: ProtocolType.TCP, trace }, stats, { halfClosedIdleMs: this.init.halfClosedIdleMs, stalledMs: this.init.stalledMs })
    } catch (err: any) {
      if (err instanceof TunnelRefusedError) return fail(statusName(err.status), err.message)
      if (err instanceof TunnelInterruptedError) return fail('reset', `the tunnel was cut: ${err.message}`)
      if (err?.name === 'UnsupportedProtocolError') return fail('reset', err.message)
      // a peer resets the streams of peers it does not trust before reading them
      fail('reset', `${describeError(err)} (if this happens on every connection: does the peer trust this node?)`)
    } finally {
      memory?.release()
    }
  }

  /** A tunnel stream to `peer` in the forward's network, or why there is none. */
  private async open (forward: Forward, peer: PeerId): Promise<Opened | Failure> {
    const { record } = forward
    const { access, node } = this.components
    if (this.backoff.isDown(peer)) return { kind: 'peer_unreachable', reason: `${peer} is unreachable (re-dialling in the background)` }
    const signal = AbortSignal.timeout(this.init.dialTimeoutMs)
    try {
      await access.verify(peer, { signal })
    } catch (err: any) {
      this.backoff.failed(peer)
      return { kind: 'peer_unreachable', reason: describeError(err) }
    }
    const vni = access.vniFor(peer, record.network)
    if (vni == null) {
      return {
        kind: 'denied',
        reason: record.network == null
          ? `peer ${peer} is neither trusted here nor a member of a network of this node: run agentmesh trust add ${peer}, or invite it`
          : `peer ${peer} holds no valid certificate of network ${record.network}`
      }
    }
    try {
      const tunnel = await newPeerStream(node, peer, TUNNEL_PROTOCOL, { negotiateFully: false, maxOutboundStreams: this.init.maxOutboundStreams, signal })
      this.backoff.succeeded(peer)
      return { tunnel, vni }
    } catch (err: any) {
      // not a reason to back off: the relay decides per circuit, and may trust both ends a moment later
      if (err?.name === 'LimitedConnectionError') return { kind: 'peer_unreachable', reason: `only a limited relayed connection reaches ${peer}: the relay does not trust both peers, and there is no direct path` }
      this.backoff.failed(peer)
      return { kind: 'peer_unreachable', reason: describeError(err) }
    }
  }

  private async save (): Promise<void> {
    await writeJsonFile(this.init.file, [...this.forwards.values()].map(({ record }) => record))
  }
}

/** `[host:]port` as users type it, host 127.0.0.1 by default. */
function listenAddress (listen: string, allowZero: boolean): HostPort {
  try {
    return parseHostPort(listen, { defaultHost: '127.0.0.1', allowZero, checkHost: true })
  } catch (err: any) {
    throw new ForwardError(err.message)
  }
}

function view (forward: Forward): ForwardView {
  return { ...forward.record, gateway: forward.record.gateway === true, listening: forward.listening, ...forward.stats.snapshot() }
}

function gatewayRefusal (address: string): string {
  return `${address} is not a loopback address: anyone who can reach this host could use the tunnel; pass --gateway (-g) to allow that, as with ssh -g`
}

async function close (server: Server): Promise<void> {
  await new Promise<void>(resolve => {
    if (!server.listening) return resolve()
    server.close(() => { resolve() })
  })
}
