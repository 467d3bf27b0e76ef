import { equals } from 'uint8arrays/equals'
import { Reader, Writer } from './bytes.ts'
import {
  MAX_PEER_ID_BYTES, MAX_REVOCATION_LIST_BYTES, MAX_REVOKED_ENTRIES, NETWORK_KEY_BYTES, REVOCATION_LIST_VERSION,
  REVOCATIONS_DOMAIN, SIGNATURE_BYTES
} from './constants.ts'
import {
  BadSignatureError, MalformedFieldError, shortKey, TooLargeError, TrailingBytesError, UnsupportedVersionError,
  WrongNetworkError, plural
} from './errors.ts'
import { checkNetworkKey, checkU64, compareBytes, parsePeerId, peerIdBytes } from './fields.ts'
import { signBody, verifyBody } from './signing.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { RevocationEntry, RevocationList, RevocationListFields } from './types.ts'

/** Entry order: peer id bytes, byte-wise, then serial. */
function compareEntries (a: { id: Uint8Array, serial: bigint }, b: { id: Uint8Array, serial: bigint }): number {
  return compareBytes(a.id, b.id) || (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0)
}

/**
 * Checks the fields, sorts the entries into the canonical order and signs
 * the list with the network key, whose public key must be
 * `fields.networkKey`. A duplicate entry is a MalformedFieldError.
 */
export async function signRevocationList (fields: RevocationListFields, networkKey: PrivateKey): Promise<RevocationList> {
  const key = checkNetworkKey(fields.networkKey)
  const version = checkU64(fields.version, 'revocation list version', 0n)
  if (!Array.isArray(fields.entries)) {
    throw new MalformedFieldError('the revocation entries are not a list')
  }
  if (fields.entries.length > MAX_REVOKED_ENTRIES) {
    throw new TooLargeError(`the revocation list has ${fields.entries.length} entries; at most ${MAX_REVOKED_ENTRIES} are allowed`)
  }
  const entries = fields.entries
    .map((entry) => ({ id: peerIdBytes(entry.peerId, 'revoked peer id'), serial: checkU64(entry.serial, 'revoked serial', 0n) }))
    .sort(compareEntries)
  const writer = new Writer().u8(REVOCATION_LIST_VERSION).bytes(key).u64(version).u16(entries.length)
  for (const [index, entry] of entries.entries()) {
    if (index > 0 && compareEntries(entries[index - 1], entry) === 0) {
      throw new MalformedFieldError(`the revocation list names serial ${entry.serial} of the same peer twice`)
    }
    writer.prefixed(entry.id, 1).u64(entry.serial)
  }
  const body = writer.finish()
  const signature = await signBody(REVOCATIONS_DOMAIN, body, key, networkKey)
  return decodeRevocationList(new Writer().bytes(body).bytes(signature).finish())
}

/**
 * Reads a revocation list: structure and field syntax only, the signature is
 * not checked (verifyRevocationList does). Entries must be in canonical
 * order without duplicates. The result holds a copy of the bytes.
 */
export function decodeRevocationList (input: Uint8Array): RevocationList {
  if (input.length > MAX_REVOCATION_LIST_BYTES) {
    throw new TooLargeError(`the revocation list takes ${input.length} bytes; at most ${MAX_REVOCATION_LIST_BYTES} are allowed`)
  }
  const bytes = Uint8Array.from(input)
  const reader = new Reader(bytes, 'the revocation list')
  const format = reader.u8('format version')
  if (format !== REVOCATION_LIST_VERSION) {
    throw new UnsupportedVersionError(`the revocation list has format version ${format}; this node reads version ${REVOCATION_LIST_VERSION}`)
  }
  const networkKey = reader.bytes(NETWORK_KEY_BYTES, 'network key')
  const version = reader.u64('list version')
  const count = reader.u16('entry count')
  if (count > MAX_REVOKED_ENTRIES) {
    throw new TooLargeError(`the revocation list has ${count} entries; at most ${MAX_REVOKED_ENTRIES} are allowed`)
  }
  const entries: RevocationEntry[] = []
  let previous: { id: Uint8Array, serial: bigint } | undefined
  for (let i = 0; i < count; i++) {
    const id = reader.prefixed(1, MAX_PEER_ID_BYTES, 'revoked peer id', MalformedFieldError)
    const peerId = parsePeerId(id, 'revoked peer id')
    const serial = reader.u64('revoked serial')
    const entry = { id, serial }
    if (previous !== undefined && compareEntries(previous, entry) >= 0) {
      throw new MalformedFieldError(`revocation entry ${i + 1} is out of order or repeats the one before (entries are sorted by peer id bytes, then serial)`)
    }
    entries.push({ peerId, serial })
    previous = entry
  }
  const signature = reader.bytes(SIGNATURE_BYTES, 'signature')
  if (reader.remaining > 0) {
    throw new TrailingBytesError(`${plural(reader.remaining, 'extra byte')} after the revocation list's signature`)
  }
  return { networkKey, version, entries, signature, bytes }
}

/** Checks that the list is of `networkKey` (WrongNetworkError) and that its signature verifies (BadSignatureError). */
export async function verifyRevocationList (list: RevocationList, networkKey: Uint8Array): Promise<void> {
  if (!equals(list.networkKey, networkKey)) {
    throw new WrongNetworkError(`the revocation list is for the network with key ${shortKey(list.networkKey)}, not ${shortKey(networkKey)}`)
  }
  const body = list.bytes.subarray(0, list.bytes.length - SIGNATURE_BYTES)
  if (list.bytes.length <= SIGNATURE_BYTES || !equals(list.bytes.subarray(body.length), list.signature) ||
    !await verifyBody(REVOCATIONS_DOMAIN, body, list.signature, list.networkKey)) {
    throw new BadSignatureError(`the signature of revocation list version ${list.version} does not verify against the network key ${shortKey(networkKey)}`)
  }
}

/** Each list's entries as "peer id/serial" strings, built on first use. */
const index = new WeakMap<RevocationList, Set<string>>()

function key (peerId: PeerId, serial: bigint): string {
  return `${peerId.toString()}/${serial}`
}

/**
 * Whether the list revokes the certificate of `peerId` with `serial`: an
 * entry of that peer id with serial 0 (every certificate) or with that
 * serial. Keys on peer id and serial, never on a certificate's bytes, so a
 * re-encoded or re-signed certificate stays revoked.
 */
export function isRevoked (list: RevocationList | undefined, peerId: PeerId, serial: bigint): boolean {
  if (list === undefined) return false
  let entries = index.get(list)
  if (entries === undefined) {
    entries = new Set(list.entries.map((entry) => key(entry.peerId, entry.serial)))
    index.set(list, entries)
  }
  return entries.has(key(peerId, 0n)) || entries.has(key(peerId, serial))
}
