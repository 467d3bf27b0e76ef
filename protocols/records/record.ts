import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { equals } from 'uint8arrays/equals'
import { Reader, Writer } from '../membership/bytes.ts'
import { decodeCertificate, verifyCertificate } from '../membership/certificate.ts'
import { MAX_CERTIFICATE_BYTES } from '../membership/constants.ts'
import {
  BadSignatureError, formatTime, MalformedFieldError, PeerMismatchError, plural, TooLargeError, TrailingBytesError,
  UnsupportedVersionError
} from '../membership/errors.ts'
import { checkTime, checkU64 } from '../membership/fields.ts'
import { signedData } from '../membership/signing.ts'
import {
  ED25519_SIGNATURE_BYTES, MAX_MEMBER_RECORD_BYTES, MAX_RECORD_ADDRESS_BYTES, MAX_RECORD_ADDRESSES,
  MAX_RECORD_SIGNATURE_BYTES, MAX_RECORD_TTL_SECONDS, MEMBER_RECORD_DOMAIN, MEMBER_RECORD_VERSION
} from './constants.ts'
import { ExpiredRecordError, NameMismatchError, TtlTooLongError } from './errors.ts'
import { readServices, writeServices } from './services.ts'
import type { Certificate } from '../membership/types.ts'
import type { MemberRecord, MemberRecordFields, VerifyRecordOptions } from './types.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const P2P = 421

/** A record's signer is the key its peer id embeds: Ed25519 or secp256k1, never an RSA peer id (a hash). */
function checkSigner (certificate: Certificate): void {
  if (certificate.peerId.publicKey === undefined) {
    throw new MalformedFieldError(`the certificate's peer id ${certificate.peerId.toString()} does not embed its public key (an RSA peer id); member records need an Ed25519 or secp256k1 identity`)
  }
}

/**
 * Checks that an address is canonical and, when it ends with /p2p/<id>,
 * that the id is the member's; returns its text.
 */
function checkAddress (address: Multiaddr, member: PeerId): string {
  const text = address.toString()
  const last = address.getComponents().at(-1)
  if (last?.code === P2P) {
    let id: PeerId
    try {
      id = peerIdFromString(last.value ?? '')
    } catch {
      throw new MalformedFieldError(`the address ${text} ends with an invalid peer id`)
    }
    if (!id.equals(member)) {
      throw new MalformedFieldError(`the address ${text} ends with another peer than the member ${member.toString()}`)
    }
  }
  return text
}

function parseAddress (bytes: Uint8Array, member: PeerId): string {
  let address: Multiaddr
  try {
    address = multiaddr(bytes)
    if (!equals(address.bytes, bytes)) throw new Error('not canonical')
    address.toString()
  } catch {
    throw new MalformedFieldError(`an address of ${plural(bytes.length, 'byte')} is not a valid multiaddr`)
  }
  return checkAddress(address, member)
}

/** The record's bytes before the signature length: what the signature covers (after the domain string). */
function encodeBody (fields: MemberRecordFields, certificate: Certificate): Uint8Array {
  const sequence = checkU64(fields.sequence, 'sequence', 0n)
  const expiresAt = checkTime(fields.expiresAt, 'expiresAt')
  if (!Array.isArray(fields.addresses)) throw new MalformedFieldError('the addresses are not a list')
  if (fields.addresses.length > MAX_RECORD_ADDRESSES) {
    throw new TooLargeError(`the record would carry ${fields.addresses.length} addresses; at most ${MAX_RECORD_ADDRESSES} are allowed`)
  }

  const writer = new Writer()
    .u8(MEMBER_RECORD_VERSION)
    .prefixed(certificate.bytes, 2)
    .u64(sequence)
    .u64(expiresAt)
  writeServices(writer, fields.services, 'the record would publish')
  writer.u8(fields.addresses.length)
  const seen = new Set<string>()
  for (const text of fields.addresses) {
    let address: Multiaddr
    try {
      address = multiaddr(text)
    } catch {
      throw new MalformedFieldError(`the address ${JSON.stringify(text)} is not a valid multiaddr`)
    }
    const canonical = checkAddress(address, certificate.peerId)
    if (address.bytes.length > MAX_RECORD_ADDRESS_BYTES) {
      throw new TooLargeError(`the address ${canonical} takes ${address.bytes.length} bytes; at most ${MAX_RECORD_ADDRESS_BYTES} fit a record`)
    }
    if (seen.has(canonical)) throw new MalformedFieldError(`the address ${canonical} appears twice`)
    seen.add(canonical)
    writer.prefixed(address.bytes, 2)
  }
  return writer.finish()
}

/**
 * Checks the fields, sorts the services by name and signs the record with
 * the member's libp2p identity key, whose peer id must be the certificate's
 * (PeerMismatchError). Throws MalformedFieldError or TooLargeError for
 * fields a decoder would refuse. The certificate itself is not verified.
 */
export async function signMemberRecord (fields: MemberRecordFields, peerKey: PrivateKey): Promise<MemberRecord> {
  if (!(fields?.certificate?.bytes instanceof Uint8Array)) throw new MalformedFieldError('the record has no certificate')
  if (fields.certificate.bytes.length > MAX_CERTIFICATE_BYTES) {
    throw new TooLargeError(`the certificate takes ${fields.certificate.bytes.length} bytes; at most ${MAX_CERTIFICATE_BYTES} are allowed`)
  }
  const certificate = decodeCertificate(fields.certificate.bytes)
  checkSigner(certificate)
  const signer = peerIdFromPrivateKey(peerKey)
  if (!signer.equals(certificate.peerId)) {
    throw new PeerMismatchError(`the record of "${certificate.name}" must be signed by its certificate's peer ${certificate.peerId.toString()}, not by ${signer.toString()}`)
  }
  const body = encodeBody(fields, certificate)
  const signature = Uint8Array.from(await peerKey.sign(signedData(MEMBER_RECORD_DOMAIN, body)))
  const length = body.length + 2 + signature.length
  if (length > MAX_MEMBER_RECORD_BYTES) {
    throw new TooLargeError(`the record would take ${length} bytes; at most ${MAX_MEMBER_RECORD_BYTES} are allowed (publish fewer or shorter addresses or services)`)
  }
  return decodeMemberRecord(new Writer().bytes(body).prefixed(signature, 2).finish())
}

/**
 * Reads a member record: structure and field syntax only, no signature is
 * checked (verifyMemberRecord and validateMemberRecord do). The input must
 * be exactly one record. The result holds a copy of the bytes.
 */
export function decodeMemberRecord (input: Uint8Array): MemberRecord {
  if (!(input instanceof Uint8Array)) throw new MalformedFieldError('the member record is not bytes')
  if (input.length > MAX_MEMBER_RECORD_BYTES) {
    throw new TooLargeError(`the member record takes ${input.length} bytes; at most ${MAX_MEMBER_RECORD_BYTES} are allowed`)
  }
  const bytes = Uint8Array.from(input)
  const reader = new Reader(bytes, 'the member record')
  const version = reader.u8('format version')
  if (version !== MEMBER_RECORD_VERSION) {
    throw new UnsupportedVersionError(`the member record has format version ${version}; this node reads version ${MEMBER_RECORD_VERSION}`)
  }
  const certificate = decodeCertificate(reader.prefixed(2, MAX_CERTIFICATE_BYTES, 'certificate'))
  checkSigner(certificate)
  const sequence = reader.u64('sequence')
  const expiresAt = checkTime(Number(reader.u64('expiresAt')), 'expiresAt')
  const services = readServices(reader, 'the member record publishes')
  const addressCount = reader.u8('address count')
  if (addressCount > MAX_RECORD_ADDRESSES) {
    throw new TooLargeError(`the member record carries ${addressCount} addresses; at most ${MAX_RECORD_ADDRESSES} are allowed`)
  }
  const addresses: string[] = []
  for (let i = 0; i < addressCount; i++) {
    const address = parseAddress(reader.prefixed(2, MAX_RECORD_ADDRESS_BYTES, 'address'), certificate.peerId)
    if (addresses.includes(address)) throw new MalformedFieldError(`the address ${address} appears twice`)
    addresses.push(address)
  }
  const signature = reader.prefixed(2, MAX_RECORD_SIGNATURE_BYTES, 'signature')
  if (certificate.peerId.type === 'Ed25519' ? signature.length !== ED25519_SIGNATURE_BYTES : signature.length === 0) {
    const expected = certificate.peerId.type === 'Ed25519' ? `an Ed25519 signature takes ${ED25519_SIGNATURE_BYTES}` : `a ${certificate.peerId.type} signature takes 1 to ${MAX_RECORD_SIGNATURE_BYTES}`
    throw new MalformedFieldError(`the member record's signature takes ${plural(signature.length, 'byte')}; ${expected}`)
  }
  if (reader.remaining > 0) {
    throw new TrailingBytesError(`${plural(reader.remaining, 'extra byte')} after the member record's signature`)
  }
  return { certificate, sequence, expiresAt, services, addresses, signature, bytes }
}

/** Whether the record's signature verifies against the key its certificate's peer id embeds. */
async function signatureVerifies (record: MemberRecord): Promise<boolean> {
  const body = record.bytes.subarray(0, record.bytes.length - 2 - record.signature.length)
  try {
    return await record.certificate.peerId.publicKey?.verify(signedData(MEMBER_RECORD_DOMAIN, body), record.signature) === true
  } catch {
    return false
  }
}

/**
 * The checks after the certificate, shared by readers and DHT servers: the
 * record's signature, then its expiry, then how far ahead that is.
 */
export async function checkSignatureAndExpiry (record: MemberRecord, now: number): Promise<void> {
  const { certificate } = record
  if (!await signatureVerifies(record)) {
    throw new BadSignatureError(`the signature of the member record of "${certificate.name}" does not verify against its peer id ${certificate.peerId.toString()}`)
  }
  if (now >= record.expiresAt) {
    throw new ExpiredRecordError(`the member record of "${certificate.name}" expired at ${formatTime(record.expiresAt)}`)
  }
  if (record.expiresAt - now > MAX_RECORD_TTL_SECONDS) {
    throw new TtlTooLongError(`the member record of "${certificate.name}" expires at ${formatTime(record.expiresAt)}, more than ${MAX_RECORD_TTL_SECONDS} s after ${formatTime(now)}`)
  }
}

/**
 * What a reader checks, in this order, and the first failure decides: the
 * certificate with verifyCertificate (network key when given, signature,
 * validity, revocation when a list is given), the member name when given
 * (NameMismatchError), the record's signature by the certificate's peer id
 * (BadSignatureError), the record's expiry (ExpiredRecordError) and that it
 * is at most MAX_RECORD_TTL_SECONDS ahead (TtlTooLongError). It checks the
 * record's bytes, decoded again; the object's other fields are not read.
 */
export async function verifyMemberRecord (record: MemberRecord, options: VerifyRecordOptions): Promise<void> {
  const decoded = decodeMemberRecord(record?.bytes)
  const { certificate } = decoded
  await verifyCertificate(certificate, {
    now: options.now,
    ...(options.networkKey === undefined ? {} : { networkKey: options.networkKey }),
    ...(options.revocations === undefined ? {} : { revocations: options.revocations })
  })
  if (options.name !== undefined && options.name !== certificate.name) {
    throw new NameMismatchError(`the record is of member "${certificate.name}", not of "${options.name}"`)
  }
  await checkSignatureAndExpiry(decoded, options.now)
}
