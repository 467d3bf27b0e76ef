import { equals } from 'uint8arrays/equals'
import { Reader, Writer } from './bytes.ts'
import {
  CERTIFICATE_DOMAIN, CERTIFICATE_VERSION, CLOCK_SKEW_SECONDS, MAX_CERTIFICATE_BYTES, MAX_GROUP_CHARS, MAX_GROUPS,
  MAX_NAME_CHARS, MAX_PEER_ID_BYTES, NETWORK_KEY_BYTES,
  SIGNATURE_BYTES
} from './constants.ts'
import {
  BadSignatureError, ExpiredCertificateError, formatTime, MalformedFieldError, NotYetValidError, PeerMismatchError,
  RevokedError, shortKey, TooLargeError, TrailingBytesError, UnsupportedVersionError, WrongNetworkError, plural
} from './errors.ts'
import {
  checkGroups, checkName, checkNetworkKey, checkTime, checkU64, checkVni, decodeText, encodeText, parsePeerId, peerIdBytes,
  roleCode, roleFromCode
} from './fields.ts'
import { isRevoked } from './revocation.ts'
import { signBody, verifyBody } from './signing.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Certificate, CertificateFields, VerifyOptions } from './types.ts'

/** The certificate's bytes before the signature: what the signature covers (after the domain string). */
function encodeBody (fields: CertificateFields): Uint8Array {
  const networkKey = checkNetworkKey(fields.networkKey)
  const vni = checkVni(fields.vni)
  const peerId = peerIdBytes(fields.peerId, 'certificate\'s peer id')
  const networkName = encodeText(checkName(fields.networkName, 'network name'))
  const name = encodeText(checkName(fields.name, 'member name'))
  const groups = checkGroups(fields.groups)
  const role = roleCode(fields.role)
  const notBefore = checkTime(fields.notBefore, 'notBefore')
  const notAfter = checkTime(fields.notAfter, 'notAfter')
  checkWindow(notBefore, notAfter)
  const serial = checkU64(fields.serial, 'serial', 1n)

  const writer = new Writer()
    .u8(CERTIFICATE_VERSION)
    .prefixed(networkName, 1)
    .bytes(networkKey)
    .u24(vni)
    .prefixed(peerId, 1)
    .prefixed(name, 1)
    .u8(groups.length)
  for (const group of groups) writer.prefixed(encodeText(group), 1)
  writer.u8(role).u64(notBefore).u64(notAfter).u64(serial)
  if (writer.length + SIGNATURE_BYTES > MAX_CERTIFICATE_BYTES) {
    throw new TooLargeError(`the certificate would take ${writer.length + SIGNATURE_BYTES} bytes; at most ${MAX_CERTIFICATE_BYTES} are allowed (use fewer or shorter groups)`)
  }
  return writer.finish()
}

function checkWindow (notBefore: number, notAfter: number): void {
  if (notAfter <= notBefore) {
    throw new MalformedFieldError(`the certificate's validity ends at ${formatTime(notAfter)}, not after it starts at ${formatTime(notBefore)}`)
  }
}

/**
 * Checks the fields and signs them with the network key, whose public key
 * must be `fields.networkKey`. Throws MalformedFieldError, TooLargeError or
 * WrongNetworkError (another key) before signing anything.
 */
export async function signCertificate (fields: CertificateFields, networkKey: PrivateKey): Promise<Certificate> {
  const body = encodeBody(fields)
  const signature = await signBody(CERTIFICATE_DOMAIN, body, fields.networkKey, networkKey)
  return decodeCertificate(new Writer().bytes(body).bytes(signature).finish())
}

/**
 * Reads a certificate: structure and field syntax only, the signature is
 * not checked (verifyCertificate does). The input must be exactly one
 * certificate. The result holds a copy of the bytes, never a view of `bytes`.
 */
export function decodeCertificate (input: Uint8Array): Certificate {
  if (input.length > MAX_CERTIFICATE_BYTES) {
    throw new TooLargeError(`the certificate takes ${input.length} bytes; at most ${MAX_CERTIFICATE_BYTES} are allowed`)
  }
  const bytes = Uint8Array.from(input)
  const reader = new Reader(bytes, 'the certificate')
  const version = reader.u8('format version')
  if (version !== CERTIFICATE_VERSION) {
    throw new UnsupportedVersionError(`the certificate has format version ${version}; this node reads version ${CERTIFICATE_VERSION}`)
  }
  const networkName = checkName(decodeText(reader.prefixed(1, MAX_NAME_CHARS, 'network name', MalformedFieldError), 'network name'), 'network name')
  const networkKey = reader.bytes(NETWORK_KEY_BYTES, 'network key')
  const vni = checkVni(reader.u24('VNI'))
  const peerId = parsePeerId(reader.prefixed(1, MAX_PEER_ID_BYTES, 'peer id', MalformedFieldError), 'certificate\'s peer id')
  const name = checkName(decodeText(reader.prefixed(1, MAX_NAME_CHARS, 'member name', MalformedFieldError), 'member name'), 'member name')
  const count = reader.u8('group count')
  if (count > MAX_GROUPS) {
    throw new TooLargeError(`the certificate has ${count} groups; at most ${MAX_GROUPS} are allowed`)
  }
  const groups: string[] = []
  for (let i = 0; i < count; i++) {
    groups.push(decodeText(reader.prefixed(1, MAX_GROUP_CHARS, 'group', MalformedFieldError), 'group'))
    checkGroups(groups)
  }
  const role = roleFromCode(reader.u8('role'))
  const notBefore = checkTime(Number(reader.u64('notBefore')), 'notBefore')
  const notAfter = checkTime(Number(reader.u64('notAfter')), 'notAfter')
  checkWindow(notBefore, notAfter)
  const serial = checkU64(reader.u64('serial'), 'serial', 1n)
  const signature = reader.bytes(SIGNATURE_BYTES, 'signature')
  if (reader.remaining > 0) {
    throw new TrailingBytesError(`${plural(reader.remaining, 'extra byte')} after the certificate's signature`)
  }
  return { networkName, networkKey, vni, peerId, name, groups, role, notBefore, notAfter, serial, signature, bytes }
}

/**
 * Checks, in this order: the network key (when given), the signature against
 * the certificate's own network key, the validity window (CLOCK_SKEW_SECONDS
 * of leeway before its start, none after its end), the peer (when given) and the
 * revocation list (when given; it must be of the same network and already
 * verified by the caller). Throws the first failure.
 */
export async function verifyCertificate (cert: Certificate, options: VerifyOptions): Promise<void> {
  if (options.networkKey !== undefined && !equals(options.networkKey, cert.networkKey)) {
    throw new WrongNetworkError(`this certificate is for network "${cert.networkName}" with key ${shortKey(cert.networkKey)}, not for the network with key ${shortKey(options.networkKey)}`)
  }
  const body = cert.bytes.subarray(0, cert.bytes.length - SIGNATURE_BYTES)
  if (cert.bytes.length <= SIGNATURE_BYTES || !equals(cert.bytes.subarray(body.length), cert.signature) ||
    !await verifyBody(CERTIFICATE_DOMAIN, body, cert.signature, cert.networkKey)) {
    throw new BadSignatureError(`the signature of the certificate of "${cert.name}" in network "${cert.networkName}" does not verify against the network key ${shortKey(cert.networkKey)}`)
  }
  if (options.now < cert.notBefore - CLOCK_SKEW_SECONDS) {
    throw new NotYetValidError(`the certificate is not valid before ${formatTime(cert.notBefore)} (this node's clock says ${formatTime(options.now)})`)
  }
  if (options.now >= cert.notAfter) {
    throw new ExpiredCertificateError(`the certificate expired at ${formatTime(cert.notAfter)}`)
  }
  if (options.peer !== undefined && !options.peer.equals(cert.peerId)) {
    throw new PeerMismatchError(`this certificate was issued to ${cert.peerId.toString()}, not to ${options.peer.toString()}`)
  }
  if (options.revocations !== undefined) {
    if (!equals(options.revocations.networkKey, cert.networkKey)) {
      throw new WrongNetworkError(`the revocation list is for the network with key ${shortKey(options.revocations.networkKey)}, not for this certificate's network "${cert.networkName}" (${shortKey(cert.networkKey)})`)
    }
    if (isRevoked(options.revocations, cert.peerId, cert.serial)) {
      throw new RevokedError(`the certificate of "${cert.name}" (${cert.peerId.toString()}, serial ${cert.serial}) is revoked in network "${cert.networkName}" (revocation list version ${options.revocations.version})`)
    }
  }
}
