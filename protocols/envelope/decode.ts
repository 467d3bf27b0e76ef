import { Uint8ArrayList } from 'uint8arraylist'
import { TruncatedEnvelopeError } from './errors.ts'
import { envelopeLength, parseRequest, parseResponse } from './parse.ts'
import type { RequestEnvelope, ResponseEnvelope } from './types.ts'

export type DecodeResult<E> =
  | { done: false }
  /** `rest` holds the bytes after the envelope, as they arrived (the start of the payload). */
  | { done: true, envelope: E, rest: Uint8ArrayList }

const NEED_MORE = { done: false } as const

/**
 * Incremental decoder: feed it the stream's chunks, of any size, until it
 * returns an envelope. It learns the envelope's length from the first byte
 * (at most MAX_ENVELOPE_BYTES) and only holds on to the chunks until that
 * many bytes are in, so it never keeps more than one envelope plus the last
 * chunk, copies at most the envelope's own bytes and hands the rest back
 * untouched. It throws only EnvelopeError subclasses; after one, discard it.
 * After an envelope it starts afresh.
 */
export class EnvelopeDecoder<E> {
  readonly #parse: (envelope: Uint8Array) => E
  #buffer = new Uint8ArrayList()

  constructor (parse: (envelope: Uint8Array) => E) {
    this.#parse = parse
  }

  push (chunk: Uint8Array | Uint8ArrayList): DecodeResult<E> {
    this.#buffer.append(chunk)
    if (this.#buffer.byteLength === 0) {
      return NEED_MORE
    }
    const length = envelopeLength(this.#buffer.get(0))
    if (this.#buffer.byteLength < length) {
      return NEED_MORE
    }
    const envelope = this.#buffer.subarray(0, length)
    const rest = this.#buffer.sublist(length)
    this.#buffer = new Uint8ArrayList()
    return { done: true, envelope: this.#parse(envelope), rest }
  }

  /** Call when the stream ends: throws if it ended inside an envelope. */
  end (): void {
    const buffered = this.#buffer.byteLength
    if (buffered > 0) {
      throw new TruncatedEnvelopeError(`the stream ended after ${buffered} of ${envelopeLength(this.#buffer.get(0))} bytes of an envelope`)
    }
  }
}

/** For the responder: decodes the envelope that opens a stream. */
export function requestDecoder (): EnvelopeDecoder<RequestEnvelope> {
  return new EnvelopeDecoder(parseRequest)
}

/** For the requester: decodes the responder's answer. */
export function responseDecoder (): EnvelopeDecoder<ResponseEnvelope> {
  return new EnvelopeDecoder(parseResponse)
}
