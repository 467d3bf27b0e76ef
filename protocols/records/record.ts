import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { equals } from 'uint8arrays/equals'
import { Reader } from '../membership/bytes.ts'
import { verifyCertificate } from '../membership/certificate.ts'
import { MalformedFieldError, plural, TooLargeError } from '../membership/errors.ts'
import {
  MAX_MEMBER_RECORD_BYTES, MAX_RECORD_ADDRESS_BYTES, MAX_RECORD_ADDRESSES, MEMBER_RECORD_DOMAIN, MEMBER_RECORD_VERSION
} from './constants.ts'
import { NameMismatchError } from './errors.ts'
import { readServices, writeServices } from './services.ts'
import { checkSignatureAndExpiry, readHeader, readSignature, recordBytes, signerCertificate, signRecordBody, writeHeader } from './signed.ts'
import type { RecordKind } from './signed.ts'
import type { Certificate } from '../membership/types.ts'
import type { MemberRecord, MemberRecordFields, VerifyRecordOptions } from './types.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Member records as signed records (signed.ts). */
export const MEMBER_RECORD: RecordKind = { version: MEMBER_RECORD_VERSION, domain: MEMBER_RECORD_DOMAIN, maxBytes: MAX_MEMBER_RECORD_BYTES, label: 'member record' }

const P2P = 421

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
  const writer = writeHeader(MEMBER_RECORD, certificate, fields.sequence, fields.expiresAt)
  if (!Array.isArray(fields.addresses)) throw new MalformedFieldError('the addresses are not a list')
  if (fields.addresses.length > MAX_RECORD_ADDRESSES) {
    throw new TooLargeError(`the record would carry ${fields.addresses.length} addresses; at most ${MAX_RECORD_ADDRESSES} are allowed`)
  }
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
  const certificate = signerCertificate(fields?.certificate, peerKey)
  const body = encodeBody(fields, certificate)
  return decodeMemberRecord(await signRecordBody(MEMBER_RECORD, body, peerKey, 'publish fewer or shorter addresses or services'))
}

/**
 * Reads a member record: structure and field syntax only, no signature is
 * checked (verifyMemberRecord and validateMemberRecord do). The input must
 * be exactly one record. The result holds a copy of the bytes.
 */
export function decodeMemberRecord (input: Uint8Array): MemberRecord {
  const bytes = recordBytes(MEMBER_RECORD, input)
  const reader = new Reader(bytes, 'the member record')
  const { certificate, sequence, expiresAt } = readHeader(MEMBER_RECORD, reader)
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
  const signature = readSignature(MEMBER_RECORD, reader, certificate)
  return { certificate, sequence, expiresAt, services, addresses, signature, bytes }
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
  await checkSignatureAndExpiry(MEMBER_RECORD, decoded, options.now)
}
