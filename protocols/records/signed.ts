/**
 * What the two kinds of signed records (member records, capability records;
 * SPEC.md sections 3 and 12) share: the header (format version, the member's
 * certificate, sequence, expiresAt), the signature by the certificate's peer key
 * over a domain string and the bytes before it, and the checks of both.
 */

import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Writer } from '../membership/bytes.ts'
import { decodeCertificate } from '../membership/certificate.ts'
import { MAX_CERTIFICATE_BYTES } from '../membership/constants.ts'
import {
  BadSignatureError, formatTime, MalformedFieldError, PeerMismatchError, plural, TooLargeError, TrailingBytesError,
  UnsupportedVersionError
} from '../membership/errors.ts'
import { checkTime, checkU64 } from '../membership/fields.ts'
import { signedData } from '../membership/signing.ts'
import { ED25519_SIGNATURE_BYTES, MAX_RECORD_SIGNATURE_BYTES, MAX_RECORD_TTL_SECONDS } from './constants.ts'
import { ExpiredRecordError, TtlTooLongError } from './errors.ts'
import type { Reader } from '../membership/bytes.ts'
import type { Certificate } from '../membership/types.ts'
import type { PrivateKey } from '@libp2p/interface'

/** What a signed record shares: a certificate, an expiry, a signature over its other bytes. */
export interface SignedRecord {
  certificate: Certificate
  sequence: bigint
  expiresAt: number
  signature: Uint8Array
  /** the exact encoding, signature included */
  bytes: Uint8Array
}

/** One kind of signed record: its format version, signature domain, size cap and name in messages. */
export interface RecordKind {
  version: number
  domain: string
  maxBytes: number
  /** "member record", "capability record" */
  label: string
}

/** A record's signer is the key its peer id embeds: Ed25519 or secp256k1, never an RSA peer id (a hash). */
function checkSigner (certificate: Certificate): void {
  if (certificate.peerId.publicKey === undefined) {
    throw new MalformedFieldError(`the certificate's peer id ${certificate.peerId.toString()} does not embed its public key (an RSA peer id); member records need an Ed25519 or secp256k1 identity`)
  }
}

/**
 * The certificate a record is signed under, decoded from its bytes, after the checks
 * of a signer: it fits, it embeds its key, and `peerKey` is its peer's
 * (PeerMismatchError). The certificate itself is not verified.
 */
export function signerCertificate (certificate: Certificate | undefined, peerKey: PrivateKey): Certificate {
  if (!(certificate?.bytes instanceof Uint8Array)) throw new MalformedFieldError('the record has no certificate')
  if (certificate.bytes.length > MAX_CERTIFICATE_BYTES) {
    throw new TooLargeError(`the certificate takes ${certificate.bytes.length} bytes; at most ${MAX_CERTIFICATE_BYTES} are allowed`)
  }
  const decoded = decodeCertificate(certificate.bytes)
  checkSigner(decoded)
  const signer = peerIdFromPrivateKey(peerKey)
  if (!signer.equals(decoded.peerId)) {
    throw new PeerMismatchError(`the record of "${decoded.name}" must be signed by its certificate's peer ${decoded.peerId.toString()}, not by ${signer.toString()}`)
  }
  return decoded
}

/** A writer holding the header: version, certificate (u16 length), sequence, expiresAt. */
export function writeHeader (kind: RecordKind, certificate: Certificate, sequence: unknown, expiresAt: unknown): Writer {
  return new Writer()
    .u8(kind.version)
    .prefixed(certificate.bytes, 2)
    .u64(checkU64(sequence, 'sequence', 0n))
    .u64(checkTime(expiresAt, 'expiresAt'))
}

/** Signs `body` (the record's bytes before the signature length) and appends the signature; TooLargeError past the cap, with `hint`. */
export async function signRecordBody (kind: RecordKind, body: Uint8Array, peerKey: PrivateKey, hint: string): Promise<Uint8Array> {
  const signature = Uint8Array.from(await peerKey.sign(signedData(kind.domain, body)))
  const length = body.length + 2 + signature.length
  if (length > kind.maxBytes) {
    throw new TooLargeError(`the record would take ${length} bytes; at most ${kind.maxBytes} are allowed (${hint})`)
  }
  return new Writer().bytes(body).prefixed(signature, 2).finish()
}

/** Checks the input's type and size before anything is read; returns a copy. */
export function recordBytes (kind: RecordKind, input: Uint8Array): Uint8Array {
  if (!(input instanceof Uint8Array)) throw new MalformedFieldError(`the ${kind.label} is not bytes`)
  if (input.length > kind.maxBytes) {
    throw new TooLargeError(`the ${kind.label} takes ${input.length} bytes; at most ${kind.maxBytes} are allowed`)
  }
  return Uint8Array.from(input)
}

/** Reads the header: version (anything else is refused first), certificate, sequence, expiresAt. */
export function readHeader (kind: RecordKind, reader: Reader): { certificate: Certificate, sequence: bigint, expiresAt: number } {
  const version = reader.u8('format version')
  if (version !== kind.version) {
    throw new UnsupportedVersionError(`the ${kind.label} has format version ${version}; this node reads version ${kind.version}`)
  }
  const certificate = decodeCertificate(reader.prefixed(2, MAX_CERTIFICATE_BYTES, 'certificate'))
  checkSigner(certificate)
  const sequence = reader.u64('sequence')
  const expiresAt = checkTime(Number(reader.u64('expiresAt')), 'expiresAt')
  return { certificate, sequence, expiresAt }
}

/** Reads the signature, checks its length against the key type, and that nothing follows it. */
export function readSignature (kind: RecordKind, reader: Reader, certificate: Certificate): Uint8Array {
  const signature = reader.prefixed(2, MAX_RECORD_SIGNATURE_BYTES, 'signature')
  if (certificate.peerId.type === 'Ed25519' ? signature.length !== ED25519_SIGNATURE_BYTES : signature.length === 0) {
    const expected = certificate.peerId.type === 'Ed25519' ? `an Ed25519 signature takes ${ED25519_SIGNATURE_BYTES}` : `a ${certificate.peerId.type} signature takes 1 to ${MAX_RECORD_SIGNATURE_BYTES}`
    throw new MalformedFieldError(`the ${kind.label}'s signature takes ${plural(signature.length, 'byte')}; ${expected}`)
  }
  if (reader.remaining > 0) {
    throw new TrailingBytesError(`${plural(reader.remaining, 'extra byte')} after the ${kind.label}'s signature`)
  }
  return signature
}

/** Whether the record's signature verifies against the key its certificate's peer id embeds. */
async function signatureVerifies (record: SignedRecord, domain: string): Promise<boolean> {
  const body = record.bytes.subarray(0, record.bytes.length - 2 - record.signature.length)
  try {
    return await record.certificate.peerId.publicKey?.verify(signedData(domain, body), record.signature) === true
  } catch {
    return false
  }
}

/**
 * The checks after the certificate, shared by readers and DHT servers: the
 * record's signature, then its expiry, then how far ahead that is.
 */
export async function checkSignatureAndExpiry (kind: RecordKind, record: SignedRecord, now: number): Promise<void> {
  const { certificate } = record
  if (!await signatureVerifies(record, kind.domain)) {
    throw new BadSignatureError(`the signature of the ${kind.label} of "${certificate.name}" does not verify against its peer id ${certificate.peerId.toString()}`)
  }
  if (now >= record.expiresAt) {
    throw new ExpiredRecordError(`the ${kind.label} of "${certificate.name}" expired at ${formatTime(record.expiresAt)}`)
  }
  if (record.expiresAt - now > MAX_RECORD_TTL_SECONDS) {
    throw new TtlTooLongError(`the ${kind.label} of "${certificate.name}" expires at ${formatTime(record.expiresAt)}, more than ${MAX_RECORD_TTL_SECONDS} s after ${formatTime(now)}`)
  }
}

/**
 * The kad-dht selector of a namespace of signed records: among the records that decode,
 * the highest sequence; on a tie the later expiresAt, then the smaller bytes
 * (byte-wise), so every node picks the same record whatever the order. 0 when none decodes.
 */
export function selectNewest (decode: (bytes: Uint8Array) => SignedRecord, records: Uint8Array[], compare: (a: Uint8Array, b: Uint8Array) => number): number {
  let best = 0
  let bestRecord: SignedRecord | undefined
  records.forEach((bytes, index) => {
    let record
    try {
      record = decode(bytes)
    } catch {
      return
    }
    if (bestRecord === undefined || record.sequence > bestRecord.sequence ||
      (record.sequence === bestRecord.sequence && (record.expiresAt > bestRecord.expiresAt ||
        (record.expiresAt === bestRecord.expiresAt && compare(record.bytes, bestRecord.bytes) < 0)))) {
      best = index
      bestRecord = record
    }
  })
  return best
}
