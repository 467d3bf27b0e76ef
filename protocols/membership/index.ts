/**
 * @packageDocumentation
 *
 * Mesh membership: certificates an admin signs with a network key, the
 * revocation lists of that key, invite tokens and the messages of the
 * `/agentmesh/membership/1.0.0` handshake. Codec and verification only, no
 * I/O. SPEC.md beside this file is the normative text.
 *
 * @example
 *
 * ```ts
 * // admin
 * const cert = await signCertificate({ networkName: 'fleet', networkKey: key.publicKey.raw, vni, peerId, name: 'bob',
 *   groups: ['ops'], role: 'member', notBefore, notAfter, serial }, key)
 * const token = encodeToken({ certificate: cert, addresses })
 *
 * // bob
 * const { certificate, addresses } = decodeToken(token)
 * await verifyCertificate(certificate, { now, peer: self })
 *
 * // either side of a membership stream, for each chunk read (within HANDSHAKE_TIMEOUT_MS)
 * const message = decoder.push(chunk) // decoder = new MessageDecoder(); decoder.end() when the stream ends
 * ```
 */

export {
  CERTIFICATE_DOMAIN, CLOCK_SKEW_SECONDS, GROUP_PATTERN, HANDSHAKE_TIMEOUT_MS, HANDSHAKES_PER_MINUTE_PER_PEER,
  MAX_ADDRESS_BYTES, MAX_CERTIFICATE_BYTES, MAX_CERTIFICATE_MESSAGE_BYTES, MAX_GROUPS, MAX_HELLO_CERTIFICATES,
  MAX_MESSAGE_BYTES, MAX_MESSAGE_LISTS, MAX_PEER_ID_BYTES, MAX_REVOCATION_LIST_BYTES, MAX_REVOKED_ENTRIES,
  MAX_TOKEN_ADDRESSES, MAX_TOKEN_CHARS, MAX_VNI, MEMBERSHIP_PROTOCOL, MessageType, NAME_PATTERN, PROTOCOL_NAME,
  PROTOCOL_PREFIX, PROTOCOL_VERSION, RESERVED_VNI, REVOCATION_ENFORCEMENT_MS, REVOCATIONS_DHT_NAMESPACE, REVOCATIONS_DHT_PREFIX,
  REVOCATIONS_DOMAIN, TOKEN_PREFIX
} from './constants.ts'
export { decodeCertificate, signCertificate, verifyCertificate } from './certificate.ts'
export { decodeRevocationList, isRevoked, signRevocationList, verifyRevocationList } from './revocation.ts'
export { decodeToken, encodeToken } from './token.ts'
export { encodeMessage, MessageDecoder } from './messages.ts'
// the stream side and the DHT record, written with the daemon against this codec
export * from './handshake.ts'
export * from './dht-record.ts'
export {
  BadSignatureError, BadTokenError, ExpiredCertificateError, HandshakeTimeoutError, MalformedFieldError, MembershipError, NotYetValidError,
  PeerMismatchError, RevokedError, TooLargeError, TrailingBytesError, TruncatedError, UnknownMessageTypeError,
  UnsupportedVersionError, WrongNetworkError
} from './errors.ts'
export type * from './types.ts'
