import { encodeResponse, EnvelopeError, HEADER_TIMEOUT_MS, requestDecoder, Status, statusName, UnsupportedCriticalOptionError } from '../envelope/index.ts'
import { HALF_CLOSED_IDLE_MS, MAX_READ_BUFFER_BYTES, SERVICE_DIAL_TIMEOUT_MS, STALLED_MS } from './constants.ts'
import { connectLocal } from './connect-tcp.ts'
import { UntrustedPeerError } from './errors.ts'
import { readEnvelope } from './read-envelope.ts'
import { bothClosed, pumpSocketToStream, pumpStreamToSocket, TunnelWatch } from './splice.ts'
import type { TunnelCounters, TunnelLog } from './counters.ts'
import type { PayloadProtocolType, ResponseInit } from '../envelope/index.ts'
import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'
import type { Socket } from 'node:net'

/** A service this node exposes, as the handler needs it. */
export interface Service {
  name: string
  host: string
  port: number
  counters: TunnelCounters
}

type RefusalStatus = Exclude<Status, typeof Status.OK | typeof Status.UNSUPPORTED_CRITICAL_OPTION>

/**
 * The grant check of one tunnel: refused with a status and reason, or allowed with bytes
 * to send the service first (a PROXY header), and optionally a local unix socket to
 * connect the tunnel to instead of the service's host and port (an HTTP proxy in front of
 * the service, which the prelude tells who the caller is: SPEC.md section 7).
 */
export type Authorization = { refuse: { status: RefusalStatus, reason: string } } | { prelude?: Uint8Array, socketPath?: string }

export interface TunnelHandlerInit {
  /** a half-closed tunnel idle this long is reset both ways (default HALF_CLOSED_IDLE_MS) */
  halfClosedIdleMs?: number
  /** a tunnel stalled by backpressure with no byte moving this long is reset both ways (default STALLED_MS) */
  stalledMs?: number
}

export interface TunnelHandlerComponents<S extends Service = Service> {
  /**
   * Whether tunnels from `peer` may be read at all: allowlisted, or a member of one of
   * this node's networks (a promise while that connection's membership handshake runs).
   */
  admitsTunnelsFrom(peer: PeerId, connection: Connection): boolean | Promise<boolean>
  /** whether this node serves the virtual network `vni` at all; a request for another is refused WRONG_NETWORK */
  servesNetwork(vni: number): boolean
  lookupService(name: string): S | undefined
  /** the service's grants for this caller in this network */
  authorize(peer: PeerId, vni: number, service: S): Authorization
  /** takes a tunnel slot for `peer` (and counts `stream` against the memory budget), or returns undefined when the limits are reached */
  admit(peer: PeerId, stream: Stream): { release(): void } | undefined
  log: TunnelLog
  /** hears each tunnel this node refuses, with its kind (a status name such as `unknown_service`, or `denied`) */
  refused?(refusal: { peer: string, service?: string, kind: string, reason: string }): void
}

/**
 * The responder of `/agentmesh/tunnel/1.0.0`: trust first (a stream from a peer that is
 * neither allowlisted nor a member is reset before a byte of it is read), then the
 * request envelope, the network, the service, its grants, a TCP connection to it, the
 * response envelope, and bytes both ways. Every failure is answered on its own stream and
 * logged in one line; none escapes the handler, which returns at once and leaves the
 * tunnel running.
 */
export function tunnelHandler<S extends Service> (init: TunnelHandlerInit, components: TunnelHandlerComponents<S>): StreamHandler {
  return (stream: Stream, connection: Connection) => {
    const peer = connection.remotePeer
    const run = (admitted: boolean): void => {
      if (!admitted) {
        components.log.warn({ peer: peer.toString() }, 'tunnel from an untrusted peer: stream reset')
        components.refused?.({ peer: peer.toString(), kind: 'denied', reason: 'the peer is not trusted' })
        stream.abort(new UntrustedPeerError(`peer ${peer} is not trusted`))
        return
      }
      // not awaited: libp2p keeps its frames of the stream's negotiation alive for as long
      // as the handler runs
      respond(stream, connection, init, components).catch((err: any) => {
        components.log.warn({ peer: peer.toString(), err: err.message }, 'tunnel failed')
        stream.abort(err)
      })
    }
    const admitted = components.admitsTunnelsFrom(peer, connection)
    if (typeof admitted === 'boolean') run(admitted)
    else admitted.then(run, () => { run(false) })
  }
}

async function respond<S extends Service> (stream: Stream, connection: Connection, init: TunnelHandlerInit, components: TunnelHandlerComponents<S>): Promise<void> {
  const peer = connection.remotePeer
  const { log } = components
  stream.maxReadBufferLength = MAX_READ_BUFFER_BYTES
  let request, rest
  try {
    ({ envelope: request, rest } = await readEnvelope(stream, requestDecoder(), HEADER_TIMEOUT_MS))
  } catch (err: any) {
    if (!(err instanceof EnvelopeError)) throw err
    log.warn({ peer: peer.toString(), error: err.name }, `bad tunnel request: ${err.message}`)
    components.refused?.({ peer: peer.toString(), kind: statusName(err.status), reason: err.message })
    await refuse(stream, err instanceof UnsupportedCriticalOptionError
      ? { vni: 0, status: Status.UNSUPPORTED_CRITICAL_OPTION, unsupportedOption: err.option, reason: err.message }
      : { vni: 0, status: err.status as RefusalStatus, reason: err.message })
    return
  }
  const context = { peer: peer.toString(), service: request.service, traceId: request.trace?.traceId }
  const service = components.lookupService(request.service)
  const fail = async (status: RefusalStatus, reason: string): Promise<void> => {
    service?.counters.failed(status)
    log.warn({ ...context, status: statusName(status) }, `tunnel refused: ${reason}`)
    components.refused?.({ peer: context.peer, service: request.service, kind: statusName(status), reason })
    await refuse(stream, { vni: request.vni, status, reason })
  }
  if (!components.servesNetwork(request.vni)) return fail(Status.WRONG_NETWORK, `this node is in no network with VNI ${request.vni}`)
  if (service == null) return fail(Status.UNKNOWN_SERVICE, `no service "${request.service}" is exposed here`)
  const authorization = components.authorize(peer, request.vni, service)
  if ('refuse' in authorization) return fail(authorization.refuse.status, authorization.refuse.reason)
  const admission = components.admit(peer, stream)
  if (admission == null) return fail(Status.OVERLOADED, 'too many tunnels: try again later')
  try {
    let socket: Socket
    const target = authorization.socketPath != null ? { path: authorization.socketPath } : { host: service.host, port: service.port }
    try {
      socket = await connectLocal(target, SERVICE_DIAL_TIMEOUT_MS)
    } catch (err: any) {
      return await fail(Status.SERVICE_UNREACHABLE, `cannot connect to ${'path' in target ? target.path : `${service.host}:${service.port}`}: ${err.code ?? err.message}`)
    }
    if (authorization.prelude != null) socket.write(authorization.prelude)
    try {
      stream.send(encodeResponse({ status: Status.OK, vni: request.vni, protocolType: request.protocolType as PayloadProtocolType }))
    } catch (err) {
      // the stream went while the service was dialled: so does the service connection
      socket.resetAndDestroy()
      throw err
    }
    service.counters.opened()
    log.debug(context, 'tunnel open')
    const watch = new TunnelWatch(socket, stream, { halfClosedIdleMs: init.halfClosedIdleMs ?? HALF_CLOSED_IDLE_MS, stalledMs: init.stalledMs ?? STALLED_MS }, reason => { log.info(context, `tunnel reset: ${reason}`) })
    pumpSocketToStream(socket, stream, bytes => { watch.sentUp(); service.counters.bytesOut(bytes) }, watch)
    pumpStreamToSocket(stream, connection, socket, rest, bytes => { watch.touch(); service.counters.bytesIn(bytes) }, undefined, watch)
    await bothClosed(socket, stream)
    service.counters.closed()
  } finally {
    admission.release()
  }
}

/** Answers a request with an error status and closes the stream: nothing else is read from it. */
async function refuse (stream: Stream, response: ResponseInit): Promise<void> {
  try {
    stream.send(encodeResponse(response))
    await stream.close({ signal: AbortSignal.timeout(HEADER_TIMEOUT_MS) })
  } catch (err: any) {
    stream.abort(err)
  }
}
