/**
 * The base of every membership error. Only its subclasses are thrown; tell
 * them apart by `name` (SPEC.md, "Errors"). Messages are one line, for users.
 */
export class MembershipError extends Error {
  override readonly name: string = 'MembershipError'
}

/** The input ends inside a field. */
export class TruncatedError extends MembershipError {
  override readonly name: string = 'TruncatedError'
}

/** Bytes follow a complete certificate, list, token or message. */
export class TrailingBytesError extends MembershipError {
  override readonly name: string = 'TrailingBytesError'
}

/** A length, count or whole input over its cap (checked before the bytes are read or buffered). */
export class TooLargeError extends MembershipError {
  override readonly name: string = 'TooLargeError'
}

/** The format version byte of a certificate, list or token is not 1. */
export class UnsupportedVersionError extends MembershipError {
  override readonly name: string = 'UnsupportedVersionError'
}

/**
 * A field off its syntax: a name or group off its pattern, duplicate groups,
 * an unknown role, VNI 0, serial 0, a validity window that ends before it
 * starts, a peer id or multiaddr that does not parse, revocation entries out
 * of order.
 */
export class MalformedFieldError extends MembershipError {
  override readonly name: string = 'MalformedFieldError'
}

/** The signature does not verify against the network key. */
export class BadSignatureError extends MembershipError {
  override readonly name: string = 'BadSignatureError'
}

/** The certificate's validity ended (past the clock skew leeway). */
export class ExpiredCertificateError extends MembershipError {
  override readonly name: string = 'ExpiredCertificateError'
}

/** The certificate's validity has not started yet (past the clock skew leeway). */
export class NotYetValidError extends MembershipError {
  override readonly name: string = 'NotYetValidError'
}

/** A certificate or list of another network key than the one expected. */
export class WrongNetworkError extends MembershipError {
  override readonly name: string = 'WrongNetworkError'
}

/** The certificate was issued to another peer than the one presenting it. */
export class PeerMismatchError extends MembershipError {
  override readonly name: string = 'PeerMismatchError'
}

/** The certificate's peer id, or its serial, is in the network's revocation list. */
export class RevokedError extends MembershipError {
  override readonly name: string = 'RevokedError'
}

/** The text is not a token: wrong prefix, or not canonical unpadded base64url. */
export class BadTokenError extends MembershipError {
  override readonly name: string = 'BadTokenError'
}

/** A message's type byte is not 1, 2 or 3. */
export class UnknownMessageTypeError extends MembershipError {
  override readonly name: string = 'UnknownMessageTypeError'
}

/** A whole message did not arrive within HANDSHAKE_TIMEOUT_MS (raised by the stream handler, not by bytes). */
export class HandshakeTimeoutError extends MembershipError {
  override readonly name: string = 'HandshakeTimeoutError'
}

/** "2026-12-01T10:00:00Z" for a unix time in seconds; "unix time N" past what a Date holds. */
export function formatTime (seconds: number): string {
  const date = new Date(seconds * 1000)
  return Number.isNaN(date.getTime()) ? `unix time ${seconds}` : date.toISOString().replace('.000Z', 'Z')
}

/** The first 8 bytes of a key in hex, for messages: enough to tell keys apart. */
export function shortKey (key: Uint8Array): string {
  return `${Array.from(key.subarray(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join('')}…`
}

/** "1 byte", "3 bytes". */
export function plural (count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
