import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { REVOCATIONS_DHT_NAMESPACE } from './constants.ts'
import { MalformedFieldError } from './errors.ts'
import { decodeRevocationList, verifyRevocationList } from './revocation.ts'

/** `/agentmesh-revocations/<lowercase hex of the network key>`, as bytes: where a network's revocation list lives in the DHT. */
export function revocationsKey (networkKey: Uint8Array): Uint8Array {
  return uint8ArrayFromString(`/${REVOCATIONS_DHT_NAMESPACE}/${uint8ArrayToString(networkKey, 'base16')}`)
}

/**
 * The kad-dht validator of the namespace: the value must be a revocation list signed by
 * the network key that the record's key names. Any DHT server can check it, member or not.
 */
export async function validateRevocationsRecord (key: Uint8Array, value: Uint8Array): Promise<void> {
  const list = decodeRevocationList(value)
  const expected = uint8ArrayToString(revocationsKey(list.networkKey))
  if (uint8ArrayToString(key) !== expected) throw new MalformedFieldError('the record is stored under another network\'s key')
  await verifyRevocationList(list, list.networkKey)
}

/** The kad-dht selector: the highest version wins (records that do not decode lose). */
export function selectRevocationsRecord (_key: Uint8Array, records: Uint8Array[]): number {
  let best = 0
  let bestVersion = -1n
  records.forEach((record, index) => {
    try {
      const { version } = decodeRevocationList(record)
      if (version > bestVersion) {
        best = index
        bestVersion = version
      }
    } catch {}
  })
  return best
}
