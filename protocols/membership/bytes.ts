import { MAX_U64 } from './constants.ts'
import { TooLargeError, TruncatedError } from './errors.ts'

/** Appends big-endian integers and byte strings; `finish()` joins them. */
export class Writer {
  readonly #parts: Uint8Array[] = []
  #length = 0

  get length (): number {
    return this.#length
  }

  bytes (bytes: Uint8Array): this {
    this.#parts.push(bytes)
    this.#length += bytes.length
    return this
  }

  u8 (value: number): this {
    return this.bytes(Uint8Array.of(value))
  }

  u16 (value: number): this {
    return this.bytes(Uint8Array.of(value >>> 8, value & 0xff))
  }

  u24 (value: number): this {
    return this.bytes(Uint8Array.of(value >>> 16, (value >>> 8) & 0xff, value & 0xff))
  }

  u32 (value: number): this {
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setUint32(0, value)
    return this.bytes(bytes)
  }

  u64 (value: bigint | number): this {
    const bytes = new Uint8Array(8)
    new DataView(bytes.buffer).setBigUint64(0, BigInt(value) & MAX_U64)
    return this.bytes(bytes)
  }

  /** A byte string after its length, as a u8 or u16 or u32 prefix. */
  prefixed (bytes: Uint8Array, prefixBytes: 1 | 2 | 4): this {
    if (prefixBytes === 1) this.u8(bytes.length)
    else if (prefixBytes === 2) this.u16(bytes.length)
    else this.u32(bytes.length)
    return this.bytes(bytes)
  }

  finish (): Uint8Array {
    const out = new Uint8Array(this.#length)
    let offset = 0
    for (const part of this.#parts) {
      out.set(part, offset)
      offset += part.length
    }
    return out
  }
}

/**
 * Reads big-endian fields from one buffer. Every read checks that its bytes
 * are there first; `what` names the field in the error.
 */
export class Reader {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  readonly #subject: string
  offset = 0

  /** `subject` names what is read, for messages: "the certificate". */
  constructor (bytes: Uint8Array, subject: string) {
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#subject = subject
  }

  get remaining (): number {
    return this.#bytes.length - this.offset
  }

  #need (count: number, what: string): void {
    if (this.remaining < count) {
      throw new TruncatedError(`${this.#subject} ends in its ${what}: ${count} bytes needed, ${this.remaining} left`)
    }
  }

  bytes (count: number, what: string): Uint8Array {
    this.#need(count, what)
    const bytes = this.#bytes.subarray(this.offset, this.offset + count)
    this.offset += count
    return bytes
  }

  u8 (what: string): number {
    this.#need(1, what)
    return this.#bytes[this.offset++]
  }

  u16 (what: string): number {
    this.#need(2, what)
    const value = this.#view.getUint16(this.offset)
    this.offset += 2
    return value
  }

  u24 (what: string): number {
    this.#need(3, what)
    const value = this.#view.getUint16(this.offset) * 0x100 + this.#bytes[this.offset + 2]
    this.offset += 3
    return value
  }

  u32 (what: string): number {
    this.#need(4, what)
    const value = this.#view.getUint32(this.offset)
    this.offset += 4
    return value
  }

  u64 (what: string): bigint {
    this.#need(8, what)
    const value = this.#view.getBigUint64(this.offset)
    this.offset += 8
    return value
  }

  /**
   * A byte string after its length prefix; the length is checked against
   * `max` before anything is read: over it is a TooLargeError, or `overCap`
   * for fields whose length is part of their syntax (names, peer ids).
   */
  prefixed (prefixBytes: 1 | 2 | 4, max: number, what: string, overCap: new (message: string) => Error = TooLargeError): Uint8Array {
    const length = prefixBytes === 1 ? this.u8(`${what} length`) : prefixBytes === 2 ? this.u16(`${what} length`) : this.u32(`${what} length`)
    if (length > max) {
      throw new overCap(`${this.#subject} has a ${what} of ${length} bytes; at most ${max} are allowed`)
    }
    return this.bytes(length, what)
  }
}
