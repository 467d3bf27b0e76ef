import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { equals } from 'uint8arrays/equals'
import { Reader, Writer } from './bytes.ts'
import { decodeCertificate } from './certificate.ts'
import {
  MAX_ADDRESS_BYTES, MAX_CERTIFICATE_BYTES, MAX_TOKEN_ADDRESSES, MAX_TOKEN_CHARS, TOKEN_PREFIX, TOKEN_VERSION
} from './constants.ts'
import {
  BadTokenError, MalformedFieldError, TooLargeError, TrailingBytesError, TruncatedError, UnsupportedVersionError, plural
} from './errors.ts'
import type { Invite } from './types.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

const P2P = 421
const BASE64URL = /^[A-Za-z0-9_-]*$/
const ANY_TOKEN_PREFIX = /^amtok(\d+)_/

/**
 * Checks that an address parses, is in its canonical binary form and ends
 * with /p2p/<peer id>; returns the peer id's text.
 */
function checkAddress (address: Multiaddr, text: string): string {
  const last = address.getComponents().at(-1)
  if (last?.code !== P2P || last.value === undefined) {
    throw new MalformedFieldError(`the inviter address ${text} does not end with /p2p/<peer id>`)
  }
  try {
    return peerIdFromString(last.value).toString()
  } catch {
    throw new MalformedFieldError(`the inviter address ${text} ends with an invalid peer id`)
  }
}

function parseAddress (bytes: Uint8Array): { text: string, inviter: string } {
  let address: Multiaddr
  try {
    address = multiaddr(bytes)
    if (!equals(address.bytes, bytes)) throw new Error('not canonical')
  } catch {
    throw new MalformedFieldError(`an inviter address of ${bytes.length} bytes is not a valid multiaddr`)
  }
  const text = address.toString()
  return { text, inviter: checkAddress(address, text) }
}

/** All addresses must name the same inviter. */
function checkOneInviter (inviters: string[]): void {
  if (new Set(inviters).size > 1) {
    throw new MalformedFieldError(`the token's addresses name different peers: ${[...new Set(inviters)].join(', ')}`)
  }
}

/**
 * The text an admin hands to a new member: `amtok1_` and the unpadded
 * base64url of the certificate and the inviter's addresses.
 */
export function encodeToken (invite: Invite): string {
  const certificate = invite.certificate.bytes
  if (!(certificate instanceof Uint8Array) || certificate.length > MAX_CERTIFICATE_BYTES) {
    throw new TooLargeError(`the certificate takes more than ${MAX_CERTIFICATE_BYTES} bytes`)
  }
  if (invite.addresses.length > MAX_TOKEN_ADDRESSES) {
    throw new TooLargeError(`the token would carry ${invite.addresses.length} addresses; at most ${MAX_TOKEN_ADDRESSES} fit`)
  }
  const writer = new Writer().u8(TOKEN_VERSION).prefixed(certificate, 2).u8(invite.addresses.length)
  const inviters: string[] = []
  for (const text of invite.addresses) {
    let address: Multiaddr
    try {
      address = multiaddr(text)
    } catch {
      throw new MalformedFieldError(`the inviter address ${JSON.stringify(text)} is not a valid multiaddr`)
    }
    inviters.push(checkAddress(address, text))
    if (address.bytes.length > MAX_ADDRESS_BYTES) {
      throw new TooLargeError(`the inviter address ${text} takes ${address.bytes.length} bytes; at most ${MAX_ADDRESS_BYTES} fit a token`)
    }
    writer.prefixed(address.bytes, 2)
  }
  checkOneInviter(inviters)
  const token = TOKEN_PREFIX + toString(writer.finish(), 'base64url')
  if (token.length > MAX_TOKEN_CHARS) {
    throw new TooLargeError(`the token would take ${token.length} characters; at most ${MAX_TOKEN_CHARS} are allowed (pass fewer addresses)`)
  }
  return token
}

/**
 * Reads a token, ignoring whitespace around it: structure only. The caller
 * verifies the certificate (signature, validity, that it is its own).
 */
export function decodeToken (text: string): Invite {
  if (typeof text !== 'string') {
    throw new BadTokenError('the token is not text')
  }
  const token = text.trim()
  if (token.length > MAX_TOKEN_CHARS) {
    throw new TooLargeError(`the token takes ${token.length} characters; at most ${MAX_TOKEN_CHARS} are allowed`)
  }
  if (!token.startsWith(TOKEN_PREFIX)) {
    const other = ANY_TOKEN_PREFIX.exec(token)
    if (other !== null) {
      throw new UnsupportedVersionError(`this is a format ${other[1]} token; this node reads format ${TOKEN_VERSION} (${TOKEN_PREFIX}...)`)
    }
    throw new BadTokenError(`this is not an agentmesh invite token: it should start with ${TOKEN_PREFIX}`)
  }
  const payload = token.slice(TOKEN_PREFIX.length)
  if (!BASE64URL.test(payload)) {
    const index = payload.search(/[^A-Za-z0-9_-]/)
    throw new BadTokenError(`the token has ${JSON.stringify(payload[index])} at character ${TOKEN_PREFIX.length + index + 1}, which is not base64url`)
  }
  let bytes: Uint8Array
  try {
    if (payload.length % 4 === 1) throw new Error('impossible length')
    bytes = fromString(payload, 'base64url')
    if (toString(bytes, 'base64url') !== payload) throw new Error('not canonical')
  } catch {
    throw new BadTokenError('the token is not valid base64url: was it cut or changed when copied?')
  }
  try {
    return decodePayload(bytes)
  } catch (err) {
    // the token's own fields ran out (not a certificate inside that is short)
    if (err instanceof TruncatedError && err.message.startsWith('the token ')) {
      throw new TruncatedError(`the token is cut short (${err.message}): copy the whole token`)
    }
    throw err
  }
}

function decodePayload (bytes: Uint8Array): Invite {
  const reader = new Reader(bytes, 'the token')
  const version = reader.u8('format version')
  if (version !== TOKEN_VERSION) {
    throw new UnsupportedVersionError(`the token has format version ${version}; this node reads version ${TOKEN_VERSION}`)
  }
  const certificate = decodeCertificate(reader.prefixed(2, MAX_CERTIFICATE_BYTES, 'certificate'))
  const count = reader.u8('address count')
  if (count > MAX_TOKEN_ADDRESSES) {
    throw new TooLargeError(`the token carries ${count} addresses; at most ${MAX_TOKEN_ADDRESSES} are allowed`)
  }
  const addresses: string[] = []
  const inviters: string[] = []
  for (let i = 0; i < count; i++) {
    const { text, inviter } = parseAddress(reader.prefixed(2, MAX_ADDRESS_BYTES, 'address'))
    addresses.push(text)
    inviters.push(inviter)
  }
  checkOneInviter(inviters)
  if (reader.remaining > 0) {
    throw new TrailingBytesError(`${plural(reader.remaining, 'extra byte')} after the token's addresses`)
  }
  return { certificate, addresses }
}
