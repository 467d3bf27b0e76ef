import { HeaderTimeoutError, TruncatedEnvelopeError } from '../envelope/index.ts'
import type { EnvelopeDecoder } from '../envelope/index.ts'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ReadEnvelopeResult<E> {
  envelope: E
  /** the bytes that followed the envelope in its chunk: the start of the payload */
  rest: Uint8ArrayList
}

/**
 * Reads one envelope off the start of a stream, then pauses the stream so that no byte
 * of what follows is lost before the caller attaches its own reader (and resumes).
 * Rejects with the decoder's typed error, a HeaderTimeoutError after `timeoutMs`,
 * a TruncatedEnvelopeError if the stream ends first, or the stream's reset error.
 */
export async function readEnvelope<E> (stream: Stream, decoder: EnvelopeDecoder<E>, timeoutMs: number): Promise<ReadEnvelopeResult<E>> {
  return new Promise((resolve, reject) => {
    const finish = (err: Error | undefined, result?: ReadEnvelopeResult<E>): void => {
      clearTimeout(timer)
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('end', onEnd)
      stream.removeEventListener('close', onClose)
      if (err != null) reject(err)
      else resolve(result as ReadEnvelopeResult<E>)
    }
    const onMessage = (event: { data: Uint8Array | Uint8ArrayList }): void => {
      try {
        const result = decoder.push(event.data)
        if (result.done) {
          stream.pause()
          finish(undefined, { envelope: result.envelope, rest: result.rest })
        }
      } catch (err: any) {
        finish(err)
      }
    }
    const onEnd = (): void => {
      // a reset or an abort ends the input too, right before the 'close' that carries its error
      if (stream.status === 'reset' || stream.status === 'aborted') return
      try {
        decoder.end()
        finish(new TruncatedEnvelopeError('the stream ended before an envelope'))
      } catch (err: any) {
        finish(err)
      }
    }
    const onClose = (event: { error?: Error }): void => {
      finish(event.error ?? new TruncatedEnvelopeError('the stream closed before an envelope'))
    }
    const timer = setTimeout(() => {
      finish(new HeaderTimeoutError(`no whole envelope within ${timeoutMs} ms`))
    }, timeoutMs)
    stream.addEventListener('message', onMessage)
    stream.addEventListener('end', onEnd)
    stream.addEventListener('close', onClose)
  })
}
