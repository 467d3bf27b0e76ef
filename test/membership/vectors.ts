/**
 * The fixed keys and values of SPEC.md's worked examples and of the hostile
 * corpus: every key comes from a fixed Ed25519 seed (RFC 8032 signatures are
 * deterministic), so the bytes never change.
 */

import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { specErrorNames as errorNamesOf, specExamples as examplesOf } from '../helpers/spec-corpus.ts'
import type { CertificateFields, RevocationListFields } from '../../protocols/membership/index.ts'
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface'

/** A 32-byte seed of one repeated byte: easy to write down in any language. */
export function seed (byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte)
}

/** The seeds, by the byte they repeat. */
export const SEEDS = {
  /** the network key of "fleet" */
  network: 0x01,
  /** bob, the member of the examples */
  bob: 0x02,
  /** alice, the admin whose node prints the invite */
  alice: 0x03,
  /** the network key of another network */
  otherNetwork: 0x04,
  /** mallory, who replays bob's certificate */
  mallory: 0x05
} as const

export interface Keys {
  network: Ed25519PrivateKey
  otherNetwork: Ed25519PrivateKey
  bob: PeerId
  alice: PeerId
  mallory: PeerId
}

let cached: Promise<Keys> | undefined

export async function keys (): Promise<Keys> {
  cached ??= (async () => {
    const key = async (byte: number): Promise<Ed25519PrivateKey> => generateKeyPairFromSeed('Ed25519', seed(byte))
    return {
      network: await key(SEEDS.network),
      otherNetwork: await key(SEEDS.otherNetwork),
      bob: peerIdFromPrivateKey(await key(SEEDS.bob)),
      alice: peerIdFromPrivateKey(await key(SEEDS.alice)),
      mallory: peerIdFromPrivateKey(await key(SEEDS.mallory))
    }
  })()
  return cached
}

/** 2026-01-01T00:00:00Z and 30 days later. */
export const NOT_BEFORE = 1_767_225_600
export const NOT_AFTER = NOT_BEFORE + 30 * 86_400
/** A moment inside the example certificate's validity. */
export const NOW = NOT_BEFORE + 86_400

/** SPEC.md section 8.1: bob's certificate in network "fleet". */
export async function certificateExample (): Promise<CertificateFields> {
  const { network, bob } = await keys()
  return {
    networkName: 'fleet',
    networkKey: network.publicKey.raw,
    vni: 0xbeef,
    peerId: bob,
    name: 'bob',
    groups: ['ops', 'gpu'],
    role: 'member',
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    serial: 1n
  }
}

/** SPEC.md section 8.2: version 3 revokes every certificate of mallory and bob's serial 1. */
export async function revocationListExample (): Promise<RevocationListFields> {
  const { network, bob, mallory } = await keys()
  return {
    networkKey: network.publicKey.raw,
    version: 3n,
    entries: [{ peerId: mallory, serial: 0n }, { peerId: bob, serial: 1n }]
  }
}

/** SPEC.md section 8.3: the inviter's addresses in the token. */
export async function tokenAddresses (): Promise<string[]> {
  const { alice } = await keys()
  return [`/ip4/192.0.2.10/tcp/4001/p2p/${alice}`, `/dns4/admin.example.com/udp/4001/quic-v1/p2p/${alice}`]
}

const SPEC = new URL('../../protocols/membership/SPEC.md', import.meta.url)

/** The worked examples of SPEC.md, by name. */
export const specExamples = (): Map<string, Uint8Array | string> => examplesOf(SPEC)

/** The error table of SPEC.md: every error `name` it lists. */
export const specErrorNames = (): Set<string> => errorNamesOf(SPEC)
