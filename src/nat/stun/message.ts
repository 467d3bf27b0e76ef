import { isIPv4, isIPv6 } from 'node:net'
import { crc32 } from 'node:zlib'
import {
  ATTRIBUTE_HEADER_BYTES, AddressFamily, AttributeType, COMPREHENSION_OPTIONAL_MIN, FINGERPRINT_BYTES, FINGERPRINT_XOR,
  HEADER_BYTES, IPV4_BYTES, IPV6_BYTES, MAGIC_COOKIE, MAX_DATAGRAM_BYTES, MessageType, PORT_XOR, SOFTWARE,
  TRANSACTION_ID_BYTES, TRANSACTION_ID_OFFSET, TYPE_PREFIX_MASK, UNKNOWN_ATTRIBUTE_CODE, UNKNOWN_ATTRIBUTE_REASON,
  WORD_BYTES
} from './constants.ts'

export interface Attribute {
  type: number
  /** A view into the datagram, without the padding. */
  value: Uint8Array
}

/** RFC 8489 says to discard silently whatever is not a well-formed request: `reason` is for tests and debugging only. */
export interface Ignore {
  kind: 'ignore'
  reason: string
}

/** Any well-formed STUN message, request or response. */
export interface StunMessage {
  kind: 'message'
  type: number
  transactionId: Uint8Array
  attributes: Attribute[]
}

export interface BindingRequest {
  kind: 'binding'
  transactionId: Uint8Array
  /** Comprehension-required attribute types we do not know, each once: answer 420 when not empty. */
  unknownRequired: number[]
}

/** A transport address the way node:dgram reports a sender. */
export interface MappedAddress {
  address: string
  port: number
}

/** The address given to an encoder is not an IP address with a port. */
export class InvalidMappedAddressError extends Error {
  override name = 'InvalidMappedAddressError'
}

/**
 * Comprehension-required attributes of a binding request that we know and deliberately ignore:
 * the server runs without credentials, so it never authenticates a request (RFC 8489 section 9
 * lets a server skip authentication) and answers with no MESSAGE-INTEGRITY of its own. Anything
 * else below 0x8000, ICE's PRIORITY and USE-CANDIDATE included, gets the 420 the RFC requires:
 * ICE sends those only in connectivity checks to a peer, never in its requests to a STUN server,
 * and an ICE agent drops any answer to a check that carries no MESSAGE-INTEGRITY, 420 or not.
 */
const UNDERSTOOD: ReadonlySet<number> = new Set([
  AttributeType.USERNAME, AttributeType.MESSAGE_INTEGRITY, AttributeType.MESSAGE_INTEGRITY_SHA256
])

const SOFTWARE_ATTRIBUTE: Attribute = { type: AttributeType.SOFTWARE, value: new TextEncoder().encode(SOFTWARE) }

const ignore = (reason: string): Ignore => ({ kind: 'ignore', reason })
const hex = (type: number): string => `0x${type.toString(16).padStart(4, '0')}`
const padded = (length: number): number => Math.ceil(length / WORD_BYTES) * WORD_BYTES
const fingerprint = (bytes: Uint8Array): number => (crc32(bytes) ^ FINGERPRINT_XOR) >>> 0

/** Checks the header and walks the attributes of one datagram; never throws. */
export function readMessage (datagram: Uint8Array): StunMessage | Ignore {
  if (datagram.length < HEADER_BYTES) return ignore('shorter than a STUN header')
  if (datagram.length > MAX_DATAGRAM_BYTES) return ignore(`longer than ${MAX_DATAGRAM_BYTES} bytes`)
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength)
  const type = view.getUint16(0)
  if ((type & TYPE_PREFIX_MASK) !== 0) return ignore('the two leading bits are not zero')
  const length = view.getUint16(2)
  if (length % WORD_BYTES !== 0) return ignore('message length is not a multiple of 4')
  if (length !== datagram.length - HEADER_BYTES) return ignore('message length disagrees with the datagram')
  if (view.getUint32(4) !== MAGIC_COOKIE) return ignore('no magic cookie')

  const attributes: Attribute[] = []
  // offset and length are multiples of 4, so an attribute header always fits: only its value can overrun
  for (let offset = HEADER_BYTES; offset < datagram.length;) {
    const attributeType = view.getUint16(offset)
    const valueLength = view.getUint16(offset + 2)
    const valueStart = offset + ATTRIBUTE_HEADER_BYTES
    const next = valueStart + padded(valueLength)
    if (next > datagram.length) return ignore(`attribute ${hex(attributeType)} overruns the message`)
    if (attributeType === AttributeType.FINGERPRINT) {
      if (next !== datagram.length) return ignore('FINGERPRINT is not the last attribute')
      if (valueLength !== FINGERPRINT_BYTES || view.getUint32(valueStart) !== fingerprint(datagram.subarray(0, offset))) {
        return ignore('FINGERPRINT does not match')
      }
    }
    attributes.push({ type: attributeType, value: datagram.subarray(valueStart, valueStart + valueLength) })
    offset = next
  }
  const transactionId = Uint8Array.from(datagram.subarray(TRANSACTION_ID_OFFSET, HEADER_BYTES))
  return { kind: 'message', type, transactionId, attributes }
}

/** What the server owes a datagram: nothing (`ignore`), or an answer to a Binding request. */
export function parseBindingRequest (datagram: Uint8Array): BindingRequest | Ignore {
  const message = readMessage(datagram)
  if (message.kind === 'ignore') return message
  if (message.type !== MessageType.BINDING_REQUEST) return ignore(`message type ${hex(message.type)} is not a Binding request`)
  const unknownRequired: number[] = []
  for (const { type } of message.attributes) {
    if (type < COMPREHENSION_OPTIONAL_MIN && !UNDERSTOOD.has(type) && !unknownRequired.includes(type)) unknownRequired.push(type)
    // RFC 8489 sections 14.5 and 14.6: a receiver ignores what follows an integrity attribute
    if (type === AttributeType.MESSAGE_INTEGRITY || type === AttributeType.MESSAGE_INTEGRITY_SHA256) break
  }
  return { kind: 'binding', transactionId: message.transactionId, unknownRequired }
}

/** `transactionId` is the request's 12 bytes. */
export function encodeBindingSuccess (transactionId: Uint8Array, mapped: MappedAddress): Uint8Array {
  return encodeMessage(MessageType.BINDING_SUCCESS, transactionId, [
    { type: AttributeType.XOR_MAPPED_ADDRESS, value: encodeXorMappedAddress(transactionId, mapped) },
    SOFTWARE_ATTRIBUTE
  ])
}

/** The 420 error response listing the comprehension-required attributes we do not know. */
export function encodeUnknownAttributeError (transactionId: Uint8Array, types: number[]): Uint8Array {
  const reason = new TextEncoder().encode(UNKNOWN_ATTRIBUTE_REASON)
  const errorCode = new Uint8Array(4 + reason.length)
  errorCode[2] = Math.floor(UNKNOWN_ATTRIBUTE_CODE / 100)
  errorCode[3] = UNKNOWN_ATTRIBUTE_CODE % 100
  errorCode.set(reason, 4)
  const unknown = new DataView(new ArrayBuffer(2 * types.length))
  types.forEach((type, i) => { unknown.setUint16(2 * i, type) })
  return encodeMessage(MessageType.BINDING_ERROR, transactionId, [
    { type: AttributeType.ERROR_CODE, value: errorCode },
    { type: AttributeType.UNKNOWN_ATTRIBUTES, value: new Uint8Array(unknown.buffer) },
    SOFTWARE_ATTRIBUTE
  ])
}

/**
 * Reads an XOR-MAPPED-ADDRESS value back, as a client does: IPv6 comes out as eight
 * uncompressed hex groups. Undefined when the family or the length is wrong.
 */
export function decodeXorMappedAddress (value: Uint8Array, transactionId: Uint8Array): MappedAddress | undefined {
  const ipLength = value[1] === AddressFamily.IPV4 ? IPV4_BYTES : value[1] === AddressFamily.IPV6 ? IPV6_BYTES : 0
  if (ipLength === 0 || value.length !== 4 + ipLength) return undefined
  const mask = xorMask(transactionId)
  const ip = Uint8Array.from(value.subarray(4), (byte, i) => byte ^ mask[i])
  const port = ((value[2] << 8) | value[3]) ^ PORT_XOR
  if (ipLength === IPV4_BYTES) return { address: ip.join('.'), port }
  const groups = Array.from({ length: 8 }, (_, i) => ((ip[2 * i] << 8) | ip[2 * i + 1]).toString(16))
  return { address: groups.join(':'), port }
}

/** Header with its final length, the attributes, then FINGERPRINT over everything before it. */
function encodeMessage (type: number, transactionId: Uint8Array, attributes: Attribute[]): Uint8Array {
  const all = [...attributes, { type: AttributeType.FINGERPRINT, value: new Uint8Array(FINGERPRINT_BYTES) }]
  const length = all.reduce((sum, { value }) => sum + ATTRIBUTE_HEADER_BYTES + padded(value.length), 0)
  const message = new Uint8Array(HEADER_BYTES + length)
  const view = new DataView(message.buffer)
  view.setUint16(0, type)
  view.setUint16(2, length)
  view.setUint32(4, MAGIC_COOKIE)
  message.set(transactionId, TRANSACTION_ID_OFFSET)
  let offset = HEADER_BYTES
  for (const attribute of all) {
    view.setUint16(offset, attribute.type)
    view.setUint16(offset + 2, attribute.value.length)
    message.set(attribute.value, offset + ATTRIBUTE_HEADER_BYTES)
    offset += ATTRIBUTE_HEADER_BYTES + padded(attribute.value.length)
  }
  const fingerprintStart = message.length - ATTRIBUTE_HEADER_BYTES - FINGERPRINT_BYTES
  view.setUint32(message.length - FINGERPRINT_BYTES, fingerprint(message.subarray(0, fingerprintStart)))
  return message
}

/** IPv4-mapped IPv6 senders (a dual-stack socket's view of IPv4) are answered as IPv4. */
function encodeXorMappedAddress (transactionId: Uint8Array, mapped: MappedAddress): Uint8Array {
  let ip = ipBytes(mapped.address)
  if (ip === undefined || !Number.isInteger(mapped.port) || mapped.port < 0 || mapped.port > 0xffff) {
    throw new InvalidMappedAddressError(`cannot map ${mapped.address} port ${mapped.port}`)
  }
  if (ip.length === IPV6_BYTES && ip.subarray(0, 10).every(byte => byte === 0) && ip[10] === 0xff && ip[11] === 0xff) {
    ip = ip.subarray(12)
  }
  const value = new Uint8Array(4 + ip.length)
  value[1] = ip.length === IPV4_BYTES ? AddressFamily.IPV4 : AddressFamily.IPV6
  new DataView(value.buffer).setUint16(2, mapped.port ^ PORT_XOR)
  const mask = xorMask(transactionId)
  ip.forEach((byte, i) => { value[4 + i] = byte ^ mask[i] })
  return value
}

/** The magic cookie then the transaction id: IPv4 is XORed with the first 4 bytes, IPv6 with all 16. */
function xorMask (transactionId: Uint8Array): Uint8Array {
  const mask = new Uint8Array(4 + TRANSACTION_ID_BYTES)
  new DataView(mask.buffer).setUint32(0, MAGIC_COOKIE)
  mask.set(transactionId, 4)
  return mask
}

/** 4 or 16 bytes, or undefined for anything that is not an IP address. */
function ipBytes (address: string): Uint8Array | undefined {
  // a link-local sender comes with its zone ("fe80::1%eth0"), which has no place on the wire
  const host = address.replace(/%.*$/, '')
  if (isIPv4(host)) return Uint8Array.from(host.split('.'), Number)
  if (!isIPv6(host)) return undefined
  const words = (part: string): number[] => part === '' ? [] : part.split(':').flatMap(group => {
    if (!group.includes('.')) return [parseInt(group, 16)]
    const [a, b, c, d] = group.split('.').map(Number)
    return [(a << 8) | b, (c << 8) | d]
  })
  const [head, tail] = host.split('::')
  const front = words(head)
  const back = tail === undefined ? [] : words(tail)
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back]
  const view = new DataView(new ArrayBuffer(IPV6_BYTES))
  all.forEach((word, i) => { view.setUint16(2 * i, word) })
  return new Uint8Array(view.buffer)
}
