import { encodeRequest, responseDecoder, Status } from '../envelope/index.ts'
import { HALF_CLOSED_IDLE_MS, MAX_READ_BUFFER_BYTES, RESPONSE_TIMEOUT_MS, STALLED_MS } from './constants.ts'
import { TunnelInterruptedError, TunnelRefusedError } from './errors.ts'
import { readEnvelope } from './read-envelope.ts'
import { bothClosed, pumpSocketToStream, pumpStreamToSocket, TunnelWatch } from './splice.ts'
import type { TunnelCounters } from './counters.ts'
import type { RequestInit } from '../envelope/index.ts'
import type { Connection, Stream } from '@libp2p/interface'
import type { Socket } from 'node:net'

export interface OpenTunnelOptions {
  /** a half-closed tunnel idle this long is reset both ways (default HALF_CLOSED_IDLE_MS) */
  halfClosedIdleMs?: number
  /** a tunnel stalled by backpressure with no byte moving this long is reset both ways (default STALLED_MS) */
  stalledMs?: number
}

/**
 * The opener of `/agentmesh/tunnel/1.0.0` for one local TCP connection on a stream just
 * opened (with `negotiateFully: false`, so the protocol id, the request envelope and the
 * client's first bytes leave together: one round trip to the first byte back).
 * Resolves when the tunnel is done; rejects with TunnelRefusedError when the responder
 * refuses, after closing the local socket, and with TunnelInterruptedError when the
 * stream is cut while the local socket is still up (a reset by the other node, the
 * connection or the relay under it gone).
 */
export async function openTunnel (stream: Stream, connection: Connection, socket: Socket, request: RequestInit, counters: TunnelCounters, options: OpenTunnelOptions = {}): Promise<void> {
  stream.maxReadBufferLength = MAX_READ_BUFFER_BYTES
  stream.send(encodeRequest(request))
  let cut: string | undefined
  const watch = new TunnelWatch(socket, stream, { halfClosedIdleMs: options.halfClosedIdleMs ?? HALF_CLOSED_IDLE_MS, stalledMs: options.stalledMs ?? STALLED_MS, deferFin: true }, reason => { cut = reason })
  pumpSocketToStream(socket, stream, bytes => { watch.sentUp(); counters.bytesOut(bytes) }, watch)
  let response, rest
  try {
    ({ envelope: response, rest } = await readEnvelope(stream, responseDecoder(), RESPONSE_TIMEOUT_MS))
  } catch (err) {
    socket.destroy()
    stream.abort(err as Error)
    throw err
  }
  if (response.status !== Status.OK) {
    socket.destroy()
    stream.abort(new TunnelRefusedError(response.status, response.reason))
    throw new TunnelRefusedError(response.status, response.reason)
  }
  counters.opened()
  pumpStreamToSocket(stream, connection, socket, rest, bytes => { watch.sentDown(); counters.bytesIn(bytes) }, reason => { cut = reason }, watch)
  await bothClosed(socket, stream)
  counters.closed()
  if (cut != null) throw new TunnelInterruptedError(cut)
}

