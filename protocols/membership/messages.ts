import { Uint8ArrayList } from 'uint8arraylist'
import { Reader, Writer } from './bytes.ts'
import { decodeCertificate } from './certificate.ts'
import {
  MAX_CERTIFICATE_BYTES, MAX_CERTIFICATE_MESSAGE_BYTES, MAX_HELLO_CERTIFICATES, MAX_MESSAGE_BYTES, MAX_MESSAGE_LISTS,
  MAX_REVOCATION_LIST_BYTES, MESSAGE_HEADER_BYTES, MessageType
} from './constants.ts'
import { plural, TooLargeError, TrailingBytesError, TruncatedError, UnknownMessageTypeError } from './errors.ts'
import { decodeRevocationList } from './revocation.ts'
import type { Certificate, MembershipMessage, RevocationList } from './types.ts'

export type { MembershipMessage } from './types.ts'

/** The longest body of each message type. */
const MAX_BODY_BYTES: Record<MessageType, number> = {
  [MessageType.HELLO]: MAX_MESSAGE_BYTES,
  [MessageType.REVOCATIONS]: MAX_MESSAGE_BYTES,
  [MessageType.CERTIFICATE]: MAX_CERTIFICATE_MESSAGE_BYTES
}

const TYPE_NAMES: Record<MessageType, MembershipMessage['type']> = {
  [MessageType.HELLO]: 'hello',
  [MessageType.REVOCATIONS]: 'revocations',
  [MessageType.CERTIFICATE]: 'certificate'
}

function isMessageType (type: number): type is MessageType {
  return Object.hasOwn(MAX_BODY_BYTES, type)
}

function checkCount (count: number, max: number, what: string): void {
  if (count > max) {
    throw new TooLargeError(`the message carries ${count} ${what}; at most ${max} are allowed`)
  }
}

function writeCertificate (writer: Writer, certificate: Certificate): void {
  if (certificate.bytes.length > MAX_CERTIFICATE_BYTES) {
    throw new TooLargeError(`a certificate of ${certificate.bytes.length} bytes; at most ${MAX_CERTIFICATE_BYTES} are allowed`)
  }
  writer.prefixed(certificate.bytes, 2)
}

function writeLists (writer: Writer, lists: RevocationList[]): void {
  checkCount(lists.length, MAX_MESSAGE_LISTS, 'revocation lists')
  writer.u8(lists.length)
  for (const list of lists) {
    if (list.bytes.length > MAX_REVOCATION_LIST_BYTES) {
      throw new TooLargeError(`a revocation list of ${list.bytes.length} bytes; at most ${MAX_REVOCATION_LIST_BYTES} are allowed`)
    }
    writer.prefixed(list.bytes, 4)
  }
}

/** One message, header included: what a node writes on a membership stream before closing its side. */
export function encodeMessage (message: MembershipMessage): Uint8Array {
  const body = new Writer()
  let type: MessageType
  switch (message.type) {
    case 'hello':
      type = MessageType.HELLO
      checkCount(message.certificates.length, MAX_HELLO_CERTIFICATES, 'certificates')
      body.u8(message.certificates.length)
      for (const certificate of message.certificates) writeCertificate(body, certificate)
      writeLists(body, message.revocations)
      break
    case 'revocations':
      type = MessageType.REVOCATIONS
      writeLists(body, message.lists)
      break
    case 'certificate':
      type = MessageType.CERTIFICATE
      writeCertificate(body, message.certificate)
      break
    default:
      throw new UnknownMessageTypeError(`no membership message has type ${JSON.stringify((message as { type: unknown }).type)}`)
  }
  if (body.length > MAX_BODY_BYTES[type]) {
    throw new TooLargeError(`the ${message.type} message would take ${body.length} bytes; at most ${MAX_BODY_BYTES[type]} are allowed`)
  }
  return new Writer().u8(type).u32(body.length).bytes(body.finish()).finish()
}

function readLists (reader: Reader): RevocationList[] {
  const count = reader.u8('revocation list count')
  checkCount(count, MAX_MESSAGE_LISTS, 'revocation lists')
  const lists: RevocationList[] = []
  for (let i = 0; i < count; i++) {
    lists.push(decodeRevocationList(reader.prefixed(4, MAX_REVOCATION_LIST_BYTES, 'revocation list')))
  }
  return lists
}

function parseBody (type: MessageType, body: Uint8Array): MembershipMessage {
  const reader = new Reader(body, `the ${TYPE_NAMES[type]} message`)
  let message: MembershipMessage
  if (type === MessageType.HELLO) {
    const count = reader.u8('certificate count')
    checkCount(count, MAX_HELLO_CERTIFICATES, 'certificates')
    const certificates: Certificate[] = []
    for (let i = 0; i < count; i++) {
      certificates.push(decodeCertificate(reader.prefixed(2, MAX_CERTIFICATE_BYTES, 'certificate')))
    }
    message = { type: 'hello', certificates, revocations: readLists(reader) }
  } else if (type === MessageType.REVOCATIONS) {
    message = { type: 'revocations', lists: readLists(reader) }
  } else {
    message = { type: 'certificate', certificate: decodeCertificate(reader.prefixed(2, MAX_CERTIFICATE_BYTES, 'certificate')) }
  }
  if (reader.remaining > 0) {
    throw new TrailingBytesError(`${plural(reader.remaining, 'extra byte')} after the ${message.type} message's content within its length`)
  }
  return message
}

/**
 * Incremental decoder of the one message a membership stream carries: feed
 * it the stream's chunks, of any size; it returns the message once complete.
 * It checks the type on the first byte and the length against the type's cap
 * on the fifth, before buffering the body, so it never holds more than one
 * message and the last chunk. Bytes after the message, in the same chunk or
 * later, are a TrailingBytesError. Throws only MembershipError subclasses;
 * after one, discard it. Call `end()` when the stream ends.
 */
export class MessageDecoder {
  #buffer = new Uint8ArrayList()
  #done = false

  push (chunk: Uint8Array | Uint8ArrayList): MembershipMessage | undefined {
    if (this.#done) {
      if (chunk.byteLength > 0) {
        throw new TrailingBytesError(`${plural(chunk.byteLength, 'extra byte')} after the message; a membership stream carries one`)
      }
      return undefined
    }
    this.#buffer.append(chunk)
    const buffered = this.#buffer.byteLength
    if (buffered === 0) return undefined
    const type = this.#buffer.get(0)
    if (!isMessageType(type)) {
      throw new UnknownMessageTypeError(`message type ${type} is not 1 (hello), 2 (revocations) or 3 (certificate)`)
    }
    if (buffered < MESSAGE_HEADER_BYTES) return undefined
    const length = this.#buffer.getUint32(1)
    if (length > MAX_BODY_BYTES[type]) {
      throw new TooLargeError(`the ${TYPE_NAMES[type]} message announces ${length} bytes; at most ${MAX_BODY_BYTES[type]} are allowed`)
    }
    const end = MESSAGE_HEADER_BYTES + length
    if (buffered < end) return undefined
    const message = parseBody(type, this.#buffer.subarray(MESSAGE_HEADER_BYTES, end))
    this.#buffer = new Uint8ArrayList()
    this.#done = true
    if (buffered > end) {
      throw new TrailingBytesError(`${plural(buffered - end, 'extra byte')} after the message; a membership stream carries one`)
    }
    return message
  }

  /** Call when the remote closed its side: throws TruncatedError unless a whole message came. */
  end (): void {
    if (this.#done) return
    const buffered = this.#buffer.byteLength
    if (buffered < MESSAGE_HEADER_BYTES) {
      throw new TruncatedError(buffered === 0 ? 'the stream ended before a message' : `the stream ended after ${buffered} bytes of a message header`)
    }
    throw new TruncatedError(`the stream ended after ${buffered - MESSAGE_HEADER_BYTES} of ${this.#buffer.getUint32(1)} bytes of a message`)
  }
}
