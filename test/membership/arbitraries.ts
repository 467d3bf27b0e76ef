/** fast-check arbitraries for valid membership fields, within every cap of SPEC.md. */

import fc from 'fast-check'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { GROUP_PATTERN, MAX_GROUPS, MAX_VNI, NAME_PATTERN } from '../../protocols/membership/index.ts'
import type { CertificateFields, RevocationEntry, Role } from '../../protocols/membership/index.ts'
import type { Keys } from './vectors.ts'
import type { PeerId } from '@libp2p/interface'

const plain = { noNullPrototype: true } as const

/** One of the fixed Ed25519 peers, or an RSA-style peer id (a sha2-256 multihash). */
export function peerId (keys: Keys): fc.Arbitrary<PeerId> {
  return fc.oneof(
    fc.constantFrom(keys.bob, keys.alice, keys.mallory),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((digest) => peerIdFromMultihash(Digest.create(0x12, digest)))
  )
}

export const name = fc.stringMatching(NAME_PATTERN)
export const groups = fc.uniqueArray(fc.stringMatching(GROUP_PATTERN), { maxLength: MAX_GROUPS })
export const role = fc.constantFrom<Role>('member', 'relay', 'admin')
export const serial = fc.bigInt({ min: 1n, max: 2n ** 64n - 1n })

/** Valid fields of the fixed network key; some exceed 1024 bytes, which signing refuses (TooLargeError). */
export function certificateFields (keys: Keys): fc.Arbitrary<CertificateFields> {
  return fc.record({
    networkName: name,
    vni: fc.integer({ min: 1, max: MAX_VNI }),
    peerId: peerId(keys),
    name,
    groups,
    role,
    notBefore: fc.integer({ min: 0, max: 2 ** 40 }),
    lifetime: fc.integer({ min: 1, max: 2 ** 32 }),
    serial
  }, plain).map(({ lifetime, ...fields }) => ({
    ...fields,
    networkKey: keys.network.publicKey.raw,
    notAfter: fields.notBefore + lifetime
  }))
}

/** Entries with distinct (peer id, serial) pairs, in any order. */
export function revocationEntries (keys: Keys): fc.Arbitrary<RevocationEntry[]> {
  return fc.uniqueArray(fc.record({ peerId: peerId(keys), serial: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }, plain), {
    maxLength: 20,
    selector: ({ peerId, serial }) => `${peerId.toString()}/${serial}`
  })
}
