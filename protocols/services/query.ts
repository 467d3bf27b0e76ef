import { Uint8ArrayList } from 'uint8arraylist'
import { TooLargeError, TruncatedError } from '../membership/errors.ts'
import { decodeAnswer, decodeQuery, encodeAnswer, encodeQuery } from './codec.ts'
import { MAX_ANSWER_BYTES, MAX_STREAMS, QUERY_BYTES, QUERY_TIMEOUT_MS, SERVICES_PROTOCOL } from './constants.ts'
import type { ServicesAnswer, ServicesQuery } from './codec.ts'
import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'

export interface ServicesHandlerComponents {
  /** what to tell this caller, or undefined to reset the stream (a caller it does not trust, a network it is not in) */
  answer(peer: PeerId, connection: Connection, query: ServicesQuery): Promise<ServicesAnswer | undefined>
  log: { debug(context: object, message: string): void }
}

/** The responder of `/agentmesh/services/1.0.0`: one query in, one answer out, then both ends close. */
export function servicesHandler (components: ServicesHandlerComponents): StreamHandler {
  return (stream: Stream, connection: Connection) => {
    respond(stream, connection, components).catch((err: any) => {
      components.log.debug({ peer: connection.remotePeer.toString(), err: err.message }, 'services query failed')
      stream.abort(err)
    })
  }
}

async function respond (stream: Stream, connection: Connection, components: ServicesHandlerComponents): Promise<void> {
  const query = decodeQuery(await readToEnd(stream, QUERY_BYTES, QUERY_TIMEOUT_MS))
  const answer = await components.answer(connection.remotePeer, connection, query)
  if (answer == null) {
    stream.abort(new Error('not answered'))
    return
  }
  stream.send(encodeAnswer(answer))
  await stream.close({ signal: AbortSignal.timeout(QUERY_TIMEOUT_MS) })
}

/** Asks the peer at the other end of `connection` which services this node may use in network `vni`. */
export async function queryServices (connection: Connection, query: ServicesQuery, timeoutMs: number = QUERY_TIMEOUT_MS): Promise<ServicesAnswer> {
  const stream = await connection.newStream(SERVICES_PROTOCOL, { signal: AbortSignal.timeout(timeoutMs), maxOutboundStreams: MAX_STREAMS })
  try {
    stream.send(encodeQuery(query))
    // the responder reads the query to its end: close this side now, and read the answer meanwhile
    const closed = stream.close({ signal: AbortSignal.timeout(timeoutMs) }).catch((err: Error) => err)
    const answer = decodeAnswer(await readToEnd(stream, MAX_ANSWER_BYTES, timeoutMs))
    await closed
    return answer
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}

/** What the other end sends until it closes its side: at most `max` bytes, within `timeoutMs`. */
async function readToEnd (stream: Stream, max: number, timeoutMs: number): Promise<Uint8Array> {
  const received = new Uint8ArrayList()
  const timer = setTimeout(() => { stream.abort(new TruncatedError(`no whole message within ${timeoutMs} ms`)) }, timeoutMs)
  try {
    for await (const chunk of stream) {
      received.append(chunk)
      if (received.byteLength > max) {
        const err = new TooLargeError(`the message exceeds ${max} bytes`)
        stream.abort(err)
        throw err
      }
    }
  } finally {
    clearTimeout(timer)
  }
  return received.subarray()
}

