import { HANDSHAKE_TIMEOUT_MS, MEMBERSHIP_PROTOCOL } from './constants.ts'
import { encodeMessage, MessageDecoder } from './messages.ts'
import { HandshakeTimeoutError, TruncatedError } from './errors.ts'
import type { MembershipMessage } from './messages.ts'
import type { Connection, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * Reads the one message a membership stream carries. Rejects with the decoder's typed
 * error, a HandshakeTimeoutError after `timeoutMs`, a TruncatedError when the stream
 * ends first, or the stream's reset error.
 */
export async function readMessage (stream: Stream, timeoutMs: number = HANDSHAKE_TIMEOUT_MS): Promise<MembershipMessage> {
  const decoder = new MessageDecoder()
  return new Promise((resolve, reject) => {
    const finish = (err: Error | undefined, message?: MembershipMessage): void => {
      clearTimeout(timer)
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('end', onEnd)
      stream.removeEventListener('close', onClose)
      if (err != null) reject(err)
      else resolve(message as MembershipMessage)
    }
    const onMessage = (event: { data: Uint8Array | Uint8ArrayList }): void => {
      try {
        const message = decoder.push(event.data)
        if (message != null) finish(undefined, message)
      } catch (err: any) {
        finish(err)
      }
    }
    const onEnd = (): void => {
      // a reset ends the input too, right before the 'close' that carries its error
      if (stream.status === 'reset' || stream.status === 'aborted') return
      finish(new TruncatedError('the stream ended before a whole membership message'))
    }
    const onClose = (event: { error?: Error }): void => {
      finish(event.error ?? new TruncatedError('the stream closed before a whole membership message'))
    }
    const timer = setTimeout(() => {
      finish(new HandshakeTimeoutError(`no whole membership message within ${timeoutMs} ms`))
    }, timeoutMs)
    stream.addEventListener('message', onMessage)
    stream.addEventListener('end', onEnd)
    stream.addEventListener('close', onClose)
  })
}

/** Sends `message` and ends this side of the stream. */
export async function sendMessage (stream: Stream, message: MembershipMessage, timeoutMs: number = HANDSHAKE_TIMEOUT_MS): Promise<void> {
  stream.send(encodeMessage(message))
  await stream.close({ signal: AbortSignal.timeout(timeoutMs) })
}

/** Opens a membership stream on `connection` (a relayed one with limits too: membership decides whether it may lose them). */
export async function openMembershipStream (connection: Connection, timeoutMs: number = HANDSHAKE_TIMEOUT_MS): Promise<Stream> {
  return connection.newStream(MEMBERSHIP_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(timeoutMs) })
}

/** The opener's side of a hello: its hello out, the peer's hello back. */
export async function exchangeHello (connection: Connection, hello: MembershipMessage & { type: 'hello' }, timeoutMs: number = HANDSHAKE_TIMEOUT_MS): Promise<MembershipMessage> {
  const stream = await openMembershipStream(connection, timeoutMs)
  try {
    stream.send(encodeMessage(hello))
    const answer = await readMessage(stream, timeoutMs)
    await stream.close({ signal: AbortSignal.timeout(timeoutMs) })
    return answer
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}

/** A one-way message (`revocations`, `certificate`): sent, and the stream closed. */
export async function pushMessage (connection: Connection, message: MembershipMessage, timeoutMs: number = HANDSHAKE_TIMEOUT_MS): Promise<void> {
  const stream = await openMembershipStream(connection, timeoutMs)
  try {
    await sendMessage(stream, message, timeoutMs)
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}
