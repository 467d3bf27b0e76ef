import { createHash } from 'node:crypto'
import { equals } from 'uint8arrays/equals'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { verifyCertificate } from '../membership/certificate.ts'
import { shortKey } from '../membership/errors.ts'
import { checkName, checkNetworkKey, compareBytes, encodeText } from '../membership/fields.ts'
import { MEMBER_RECORD_DHT_PREFIX } from './constants.ts'
import { KeyMismatchError } from './errors.ts'
import { decodeMemberRecord, MEMBER_RECORD } from './record.ts'
import { checkSignatureAndExpiry, selectNewest } from './signed.ts'
import type { AbortOptions } from '@libp2p/interface'

/**
 * `/agentmesh-member/` and the lower-case hex of SHA-256(network key || 0x00
 * || UTF-8 name), as UTF-8 bytes: where the record of member `name` of the
 * network lives in the DHT. MalformedFieldError for a key that is not 32
 * bytes or a name off NAME_PATTERN.
 */
export function memberRecordKey (networkKey: Uint8Array, name: string): Uint8Array {
  const hash = createHash('sha256')
    .update(checkNetworkKey(networkKey))
    .update(Uint8Array.of(0))
    .update(encodeText(checkName(name, 'member name')))
    .digest()
  return fromString(`${MEMBER_RECORD_DHT_PREFIX}${toString(hash, 'base16')}`)
}

export interface ValidateRecordOptions extends AbortOptions {
  /** Unix seconds; the system clock when not given (kad-dht passes only a signal). */
  now?: number
}

/**
 * The kad-dht validator of the namespace, which any DHT server runs, member
 * or not: the value decodes, the key is the one of its certificate's network
 * key and member name (KeyMismatchError), the certificate's signature by
 * its own network key and its validity, the record's signature, expiry and
 * TTL. Revocation cannot be checked here: readers do it.
 */
export async function validateMemberRecord (key: Uint8Array, value: Uint8Array, options?: ValidateRecordOptions): Promise<void> {
  const record = decodeMemberRecord(value)
  const { certificate } = record
  const expected = memberRecordKey(certificate.networkKey, certificate.name)
  if (!(key instanceof Uint8Array) || !equals(key, expected)) {
    throw new KeyMismatchError(`the record of member "${certificate.name}" of network "${certificate.networkName}" (${shortKey(certificate.networkKey)}) is stored under another key; its own is ${toString(expected)}`)
  }
  const now = options?.now ?? Math.floor(Date.now() / 1000)
  await verifyCertificate(certificate, { now })
  await checkSignatureAndExpiry(MEMBER_RECORD, record, now)
}

/**
 * The kad-dht selector: among the records that decode, the highest
 * sequence; on a tie the later expiresAt, then the smaller bytes (byte-wise),
 * so every node picks the same record whatever the order. 0 when none decodes.
 */
export function selectMemberRecord (_key: Uint8Array, records: Uint8Array[]): number {
  return selectNewest(decodeMemberRecord, records, compareBytes)
}
