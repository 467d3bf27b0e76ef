/**
 * Every number of the STUN binding responder (RFC 8489), with the reason beside it.
 */

/** RFC 8489 section 5: tells STUN from RFC 3489 and from the other protocols sharing the port. */
export const MAGIC_COOKIE = 0x2112a442

/** Type, length, magic cookie and the 96-bit transaction id. */
export const HEADER_BYTES = 20
export const TRANSACTION_ID_BYTES = 12
export const TRANSACTION_ID_OFFSET = 8

/** Attribute type and length, each 16 bits; values are padded to this word size. */
export const ATTRIBUTE_HEADER_BYTES = 4
export const WORD_BYTES = 4

/** The two most significant bits of every STUN message are zero (RFC 8489 section 5). */
export const TYPE_PREFIX_MASK = 0xc000

/**
 * The longest datagram looked at. A binding request is under 200 bytes; RFC 8489 section 6.1
 * keeps STUN over UDP within the path MTU, so anything past the IPv6 minimum MTU is not a
 * request we owe an answer, and is dropped before any parsing.
 */
export const MAX_DATAGRAM_BYTES = 1280

export const MessageType = {
  BINDING_REQUEST: 0x0001,
  BINDING_SUCCESS: 0x0101,
  BINDING_ERROR: 0x0111
} as const

export const AttributeType = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  XOR_MAPPED_ADDRESS: 0x0020,
  SOFTWARE: 0x8022,
  FINGERPRINT: 0x8028
} as const

/** Attribute types below this are comprehension-required (RFC 8489 section 14). */
export const COMPREHENSION_OPTIONAL_MIN = 0x8000

/** RFC 8489 section 14.7: the CRC-32 is XORed with this so it differs from the CRC of the carrying protocol. */
export const FINGERPRINT_XOR = 0x5354554e
export const FINGERPRINT_BYTES = 4

/** XOR-MAPPED-ADDRESS family byte; the port is XORed with the cookie's top 16 bits. */
export const AddressFamily = { IPV4: 0x01, IPV6: 0x02 } as const
export const PORT_XOR = MAGIC_COOKIE >>> 16
export const IPV4_BYTES = 4
export const IPV6_BYTES = 16

/** RFC 8489 section 14.8: class 4, number 20, with the reason phrase the RFC suggests. */
export const UNKNOWN_ATTRIBUTE_CODE = 420
export const UNKNOWN_ATTRIBUTE_REASON = 'Unknown Attribute'

/**
 * SOFTWARE of every response: names the implementation for whoever debugs a capture, without
 * telling strangers the version they could look vulnerabilities up for.
 */
export const SOFTWARE = 'agentmesh'
