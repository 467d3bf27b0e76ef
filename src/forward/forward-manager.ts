import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { peerIdFromString } from '@libp2p/peer-id'
import { ProtocolType, SERVICE_NAME_PATTERN, statusName } from '../../protocols/envelope/index.ts'
import { openTunnel, TUNNEL_PROTOCOL, TunnelInterruptedError, TunnelRefusedError } from '../../protocols/tunnel/index.ts'
import { describeError, dialPeer, newPeerStream } from '../node/dial-peer.ts'
import { readJsonFile, writeJsonFile } from '../state/json-file.ts'
import { formatHostPort, isLoopbackHost, parseHostPort } from '../tunnel/host-port.ts'
import { TunnelStats } from '../tunnel/tunnel-stats.ts'
import { PeerBackoff } from './peer-backoff.ts'
import type { Logger } from '../log/logger.ts'
import type { PeerDialer } from '../node/dial-peer.ts'
import type { TrustStore } from '../trust/trust-store.ts'
import type { HostPort } from '../tunnel/host-port.ts'
import type { TunnelStatsView } from '../tunnel/tunnel-stats.ts'
import type { PeerId, Stream } from '@libp2p/interface'
import type { Server, Socket } from 'node:net'

interface ForwardRecord {
  /** `host:port` as bound (a port 0 given by the user is replaced by the port it got) */
  listen: string
  peer: string
  service: string
  /** listening on an address other hosts can reach, as the user asked with `--gateway` (ssh -g) */
  gateway?: boolean
}

export interface ForwardView extends ForwardRecord, TunnelStatsView {
  gateway: boolean
  /** false when the address could not be bound at restore (see the log) */
  listening: boolean
}

interface Forward {
  record: ForwardRecord
  peer: PeerId
  server: Server
  stats: TunnelStats
  listening: boolean
}

export class ForwardError extends Error {
  override name = 'ForwardError'
}

export interface ForwardManagerInit {
  file: string
  vni: number
  dialTimeoutMs: number
  maxOutboundStreams: number
  /** a half-closed tunnel idle this long is reset both ways */
  halfClosedIdleMs: number
  /** a tunnel stalled by backpressure with no byte moving this long is reset both ways */
  stalledMs: number
}

export interface ForwardManagerComponents {
  node: PeerDialer
  trust: TrustStore
  log: Logger
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

  constructor (init: ForwardManagerInit, components: ForwardManagerComponents) {
    this.init = init
    this.components = components
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
   * `listen` is `[host:]port` (host 127.0.0.1 by default); `target` is `<peer id or
   * trusted name>/<service>`. As OpenSSH's `ssh -L`, a forward listens on loopback only
   * unless `gateway` (`--gateway`, `-g`) allows other hosts to use the tunnel.
   */
  async add (listen: string, target: string, options: { gateway?: boolean } = {}): Promise<ForwardView> {
    const slash = target.lastIndexOf('/')
    const [peerText, service] = [target.slice(0, slash), target.slice(slash + 1)]
    if (slash < 1 || !SERVICE_NAME_PATTERN.test(service)) throw new ForwardError(`"${target}" is not <peer>/<service>`)
    const peerId = this.components.trust.resolve(peerText)?.peerId ?? peerText
    try {
      peerIdFromString(peerId)
    } catch {
      throw new ForwardError(`"${peerText}" is neither a peer id nor the name of a trusted peer`)
    }
    const host = listenAddress(listen, true)
    const address = formatHostPort(host)
    if (!isLoopbackHost(host.host) && options.gateway !== true) throw new ForwardError(gatewayRefusal(address))
    if (this.forwards.has(address)) throw new ForwardError(`${address} is already forwarded: unforward it first`)
    const forward = this.create({ listen: address, peer: peerId, service, ...(options.gateway === true && !isLoopbackHost(host.host) && { gateway: true }) })
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

  list (): ForwardView[] {
    return [...this.forwards.values()].map(view)
  }

  private create (record: ForwardRecord): Forward {
    const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true })
    const forward: Forward = { record, peer: peerIdFromString(record.peer), server, stats: new TunnelStats(), listening: false }
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
    await new Promise<void>((resolve, reject) => {
      forward.server.once('error', reject)
      forward.server.listen(port, host, () => {
        forward.server.off('error', reject)
        resolve()
      })
    }).catch(err => {
      throw new ForwardError(`cannot listen on ${forward.record.listen}: ${err.code ?? err.message}`)
    })
    const bound = forward.server.address()
    if (bound != null && typeof bound === 'object') forward.record.listen = formatHostPort({ host, port: bound.port })
    forward.listening = true
  }

  /** One local connection: a tunnel stream to the peer, or a prompt close with the failure counted and logged. */
  private async carry (forward: Forward, socket: Socket): Promise<void> {
    const { record, peer, stats } = forward
    const { log, trust, node } = this.components
    const context = { listen: record.listen, peer: record.peer, service: record.service }
    const fail = (kind: string, reason: string): void => {
      stats.failed(kind)
      const lines = this.components.failureLog ?? log
      lines.warn({ ...context, status: kind }, `forwarded connection closed: ${reason}`)
      socket.destroy()
    }
    if (!trust.isTrusted(peer)) return fail('denied', `peer ${record.peer} is not trusted here: run agentmesh trust add ${record.peer}`)
    if (this.backoff.isDown(peer)) return fail('peer_unreachable', 'the peer is unreachable (re-dialling in the background)')
    let tunnel
    try {
      tunnel = await newPeerStream(node, peer, TUNNEL_PROTOCOL, {
        negotiateFully: false,
        maxOutboundStreams: this.init.maxOutboundStreams,
        signal: AbortSignal.timeout(this.init.dialTimeoutMs)
      })
    } catch (err: any) {
      this.backoff.failed(peer)
      if (err?.name === 'LimitedConnectionError') return fail('peer_unreachable', `only a limited relayed connection reaches ${record.peer}: the relay does not trust that peer, and there is no direct path`)
      return fail('peer_unreachable', describeError(err))
    }
    this.backoff.succeeded(peer)
    const memory = this.components.memory?.track(peer, tunnel.stream)
    if (this.components.memory != null && memory == null) {
      tunnel.stream.abort(new ForwardError('the tunnel memory budget is spent'))
      return fail('overloaded', 'the tunnel memory budget (tunnels.maxBufferedBytes) is nearly spent: try again later')
    }
    const trace = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: 0 }
    try {
      await openTunnel(tunnel.stream, tunnel.connection, socket, { service: record.service, vni: this.init.vni, protocolType: ProtocolType.TCP, trace }, stats, { halfClosedIdleMs: this.init.halfClosedIdleMs, stalledMs: this.init.stalledMs })
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
