/**
 * The fixed keys and values of protocols/records/SPEC.md's worked examples
 * and of the hostile corpus. The keys are those of the membership vectors
 * (test/membership/vectors.ts): Ed25519 keys from seeds of one repeated byte,
 * so every signature, and every byte, is fixed.
 */

import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { signCertificate } from '../../protocols/membership/index.ts'
import { specErrorNames as errorNamesOf, specExamples as examplesOf } from '../helpers/spec-corpus.ts'
import { certificateExample, keys, NOW, seed, SEEDS } from '../membership/vectors.ts'
import type { CapabilityRecordFields, MemberRecord, MemberRecordFields } from '../../protocols/records/index.ts'
import type { Certificate } from '../../protocols/membership/index.ts'
import type { Ed25519PrivateKey } from '@libp2p/interface'

export { certificateExample, keys, NOT_AFTER, NOT_BEFORE, NOW, seed, SEEDS } from '../membership/vectors.ts'
export { concatBytes } from '../helpers/spec-corpus.ts'

/** The members' own libp2p identity keys (the membership vectors keep only their peer ids). */
export interface PeerKeys {
  bob: Ed25519PrivateKey
  alice: Ed25519PrivateKey
  mallory: Ed25519PrivateKey
}

let cached: Promise<PeerKeys> | undefined

export async function peerKeys (): Promise<PeerKeys> {
  cached ??= (async () => ({
    bob: await generateKeyPairFromSeed('Ed25519', seed(SEEDS.bob)),
    alice: await generateKeyPairFromSeed('Ed25519', seed(SEEDS.alice)),
    mallory: await generateKeyPairFromSeed('Ed25519', seed(SEEDS.mallory))
  }))()
  return cached
}

/** The record's sequence: the publisher's clock in ms at NOW (2026-01-02T00:00:00Z). */
export const SEQUENCE = BigInt(NOW) * 1000n
/** The daemon's TTL: one hour after NOW. */
export const EXPIRES_AT = NOW + 3600

/** SPEC.md's bob certificate (membership SPEC.md section 8.1). */
export async function bobCertificate (): Promise<Certificate> {
  const { network } = await keys()
  return signCertificate(await certificateExample(), network)
}

/** SPEC.md section 9.1: bob's record, services given out of order (the signer sorts them). */
export async function recordExample (): Promise<MemberRecordFields> {
  const { alice } = await keys()
  return {
    certificate: await bobCertificate(),
    sequence: SEQUENCE,
    expiresAt: EXPIRES_AT,
    services: [{ name: 'ssh', proto: 'ssh', port: 22 }, { name: 'inference', proto: 'http', port: 8080 }],
    addresses: ['/ip4/192.0.2.20/tcp/4001', `/ip4/192.0.2.10/tcp/4001/p2p/${alice}/p2p-circuit`]
  }
}

/**
 * SPEC.md section 12.6: bob's capability record, an A2A agent and an MCP server given
 * out of order, with a skill's tags out of order too (the signer sorts them).
 */
export async function capabilityExample (): Promise<CapabilityRecordFields> {
  return {
    certificate: await bobCertificate(),
    sequence: SEQUENCE,
    expiresAt: EXPIRES_AT,
    agents: [
      { service: 'tools', kind: 'mcp', title: 'calc', path: '/mcp', skills: [{ id: 'add', tags: [] }] },
      { service: 'translator', kind: 'a2a', title: 'Translator', path: '/', skills: [{ id: 'translate', tags: ['translation', 'language'] }] }
    ]
  }
}

/** A record with its certificate's peer id as text, for deepEqual (PeerId objects cache their text form). */
export function plainRecord (record: MemberRecord): Record<string, unknown> {
  return { ...record, certificate: { ...record.certificate, peerId: record.certificate.peerId.toString() } }
}

const SPEC = new URL('../../protocols/records/SPEC.md', import.meta.url)

/** The worked examples of SPEC.md, by name. */
export const specExamples = (): Map<string, Uint8Array | string> => examplesOf(SPEC)

/** The error table of SPEC.md: every error `name` it lists. */
export const specErrorNames = (): Set<string> => errorNamesOf(SPEC)
