/**
 * Builds the hostile corpus of test/fixtures/records/ from the fixed keys of
 * test/records/vectors.ts (those of the membership vectors):
 * `node test/records/generate-fixtures.ts` rewrites the files and
 * manifest.json; fixtures.test.ts checks that the committed files are
 * exactly what this builds.
 */

import { signCertificate, signRevocationList } from '../../protocols/membership/index.ts'
import { signedData } from '../../protocols/membership/signing.ts'
import { MAX_MEMBER_RECORD_BYTES, MAX_RECORD_TTL_SECONDS, MEMBER_RECORD_DOMAIN, signMemberRecord } from '../../protocols/records/index.ts'
import {
  certificateExample, EXPIRES_AT, keys, NOT_AFTER, NOT_BEFORE, NOW, peerKeys, recordExample
} from './vectors.ts'
import type { MemberRecordFields } from '../../protocols/records/index.ts'
import { concatBytes, hexDump, writeCorpus } from '../helpers/spec-corpus.ts'
import type { CorpusManifest } from '../helpers/spec-corpus.ts'
import type { PrivateKey } from '@libp2p/interface'

export const FIXTURE_DIRECTORY = new URL('../fixtures/records/', import.meta.url)

/** Which network key of vectors.ts. */
type NetworkName = 'network' | 'otherNetwork'

/** How fixtures.test.ts checks one file. */
export interface Fixture {
  file: string
  what: string
  kind: 'member-record' | 'revocation-list'
  /**
   * `decode`: decodeMemberRecord throws `error`; `verify`: it decodes and
   * verifyMemberRecord (a reader) throws `error`; `validate`:
   * validateMemberRecord (a DHT server) throws `error`. `error` null: passes.
   */
  check: 'decode' | 'verify' | 'validate'
  verify?: {
    now: number
    /** the reader's network */
    networkKey: NetworkName
    /** the name the reader looked up */
    name?: string
    /** a revocation list fixture the reader holds */
    revocations?: string
  }
  validate?: {
    now: number
    /** the DHT key the record is stored under: memberRecordKey(network, name) */
    key: { networkKey: NetworkName, name: string }
  }
  /** The error's `name`, or null for a file that passes its check. */
  error: string | null
}

export type Manifest = CorpusManifest<Fixture>

const SIGNATURE = 64

function u16 (value: number): Uint8Array {
  return Uint8Array.of(value >>> 8, value & 0xff)
}

function u64 (value: number | bigint): Uint8Array {
  const bytes = new Uint8Array(8)
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value))
  return bytes
}

function patched (bytes: Uint8Array, offset: number, patch: Uint8Array | number[]): Uint8Array {
  const copy = Uint8Array.from(bytes)
  copy.set(patch, offset)
  return copy
}

/** Replaces a record's Ed25519 signature with `key`'s over its body (so only the changed field is wrong). */
async function resign (bytes: Uint8Array, key: PrivateKey): Promise<Uint8Array> {
  const body = bytes.subarray(0, bytes.length - 2 - SIGNATURE)
  return concatBytes(body, u16(SIGNATURE), Uint8Array.from(await key.sign(signedData(MEMBER_RECORD_DOMAIN, body))))
}

export async function buildFixtures (): Promise<{ manifest: Manifest, files: Map<string, string> }> {
  const { network, otherNetwork, bob: bobId } = await keys()
  const { bob, mallory } = await peerKeys()
  const example = await recordExample()
  const record = (await signMemberRecord(example, bob)).bytes
  const sign = async (change: Partial<MemberRecordFields>): Promise<Uint8Array> => (await signMemberRecord({ ...example, ...change }, bob)).bytes
  const fixtures: Fixture[] = []
  const files = new Map<string, string>()

  const add = (fixture: Omit<Fixture, 'kind'> & { kind?: Fixture['kind'] }, bytes: Uint8Array): void => {
    fixtures.push({ ...fixture, kind: fixture.kind ?? 'member-record' })
    files.set(fixture.file, hexDump(bytes, fixture.what))
  }
  const reader = (extra: Partial<NonNullable<Fixture['verify']>> = {}): Pick<Fixture, 'check' | 'verify'> =>
    ({ check: 'verify', verify: { now: NOW, networkKey: 'network', name: 'bob', ...extra } })
  const server = (key: NonNullable<Fixture['validate']>['key'] = { networkKey: 'network', name: 'bob' }): Pick<Fixture, 'check' | 'validate'> =>
    ({ check: 'validate', validate: { now: NOW, key } })

  // offsets in the record of SPEC.md section 9.1
  const certificateLength = example.certificate.bytes.length
  const AT = { version: 0, sequence: 3 + certificateLength, expiresAt: 11 + certificateLength, services: 19 + certificateLength }

  // valid, as the files below are meant to differ from
  add({ file: 'record-valid.hex', what: 'bob\'s record of SPEC.md section 9.1: verifies for a reader of fleet looking up bob on 2026-01-02', ...reader(), error: null }, record)
  add({ file: 'record-valid-at-server.hex', what: 'bob\'s record of SPEC.md section 9.1 under its own key: a DHT server accepts it', ...server(), error: null }, record)

  // signatures
  add({ file: 'record-forged.hex', what: 'bob\'s record signed by mallory\'s peer key (seed 05) instead of bob\'s', ...reader(), error: 'BadSignatureError' },
    await resign(record, mallory))
  add({ file: 'record-tampered-at-server.hex', what: 'bob\'s record with its sequence raised by one after signing, sent to a DHT server', ...server(), error: 'BadSignatureError' },
    patched(record, AT.sequence, u64(example.sequence + 1n)))
  {
    const certificate = await signCertificate({ ...await certificateExample(), networkKey: otherNetwork.publicKey.raw }, otherNetwork)
    add({ file: 'record-other-network.hex', what: 'bob\'s record with his certificate of another network (seed 04), read by a member of fleet (seed 01)', ...reader(), error: 'WrongNetworkError' },
      await sign({ certificate }))
  }

  // times
  add({ file: 'record-expired-at-server.hex', what: 'bob\'s record that expired a minute before the DHT server checks it', ...server(), error: 'ExpiredRecordError' },
    await sign({ expiresAt: NOW - 60 }))
  add({ file: 'record-expired.hex', what: 'bob\'s record read at its expiresAt (2026-01-02T01:00:00Z)', ...reader({ now: EXPIRES_AT }), error: 'ExpiredRecordError' }, record)
  add({ file: 'record-ttl-too-long.hex', what: `bob's record expiring ${MAX_RECORD_TTL_SECONDS + 1} s after the DHT server checks it`, ...server(), error: 'TtlTooLongError' },
    await sign({ expiresAt: NOW + MAX_RECORD_TTL_SECONDS + 1 }))
  {
    const certificate = await signCertificate({ ...await certificateExample(), notBefore: NOT_BEFORE - 365 * 86_400, notAfter: NOT_AFTER - 365 * 86_400 }, network)
    add({ file: 'record-certificate-expired.hex', what: 'bob\'s record with his certificate valid 2025-01-01 to 2025-01-31, read on 2026-01-02', ...reader(), error: 'ExpiredCertificateError' },
      await sign({ certificate }))
  }

  // revocation: readers only
  const revocations = await signRevocationList({ networkKey: network.publicKey.raw, version: 1n, entries: [{ peerId: bobId, serial: 1n }] }, network)
  add({ file: 'revocations-bob.hex', what: 'fleet\'s revocation list version 1: bob\'s certificate serial 1', kind: 'revocation-list', check: 'decode', error: null }, revocations.bytes)
  add({ file: 'record-revoked.hex', what: 'bob\'s record; the reader holds the list that revokes bob\'s certificate (revocations-bob.hex)', ...reader({ revocations: 'revocations-bob.hex' }), error: 'RevokedError' }, record)
  add({ file: 'record-revoked-at-server.hex', what: 'the same record at a DHT server, which holds no revocation list: accepted (readers refuse it)', ...server(), error: null }, record)

  // keys and names
  add({ file: 'record-wrong-key.hex', what: 'bob\'s record stored under the key of bob in another network (seed 04)', ...server({ networkKey: 'otherNetwork', name: 'bob' }), error: 'KeyMismatchError' }, record)
  add({ file: 'record-name-mismatch-at-server.hex', what: 'bob\'s record stored under the key of carol in fleet', ...server({ networkKey: 'network', name: 'carol' }), error: 'KeyMismatchError' }, record)
  add({ file: 'record-name-mismatch.hex', what: 'bob\'s record handed to a reader that looked up carol', ...reader({ name: 'carol' }), error: 'NameMismatchError' }, record)

  // structure
  const decode = { check: 'decode' } as const
  add({ file: 'record-truncated.hex', what: 'bob\'s record cut after 250 bytes', ...decode, error: 'TruncatedError' }, record.subarray(0, 250))
  add({ file: 'record-trailing-bytes.hex', what: 'bob\'s record and one more byte', ...decode, error: 'TrailingBytesError' }, concatBytes(record, Uint8Array.of(0)))
  add({ file: 'record-oversized.hex', what: `bob's record padded to ${MAX_MEMBER_RECORD_BYTES + 1} bytes`, ...decode, error: 'TooLargeError' },
    concatBytes(record, new Uint8Array(MAX_MEMBER_RECORD_BYTES + 1 - record.length)))
  add({ file: 'record-version-2.hex', what: 'format version 2 (re-signed by bob)', ...decode, error: 'UnsupportedVersionError' }, await resign(patched(record, AT.version, [2]), bob))
  add({ file: 'record-too-many-services.hex', what: 'a service count of 33, then nothing (the count is refused before the services are read)', ...decode, error: 'TooLargeError' },
    patched(record.subarray(0, AT.services + 1), AT.services, [33]))

  // services: a record publishing "gpu" (grpc 50051) and "ssh" (ssh 22), changed and re-signed by bob
  const two = await sign({ services: [{ name: 'gpu', proto: 'grpc', port: 50051 }, { name: 'ssh', proto: 'ssh', port: 22 }] })
  const first = AT.services + 1
  const second = first + 1 + 3 + 1 + 2
  add({ file: 'record-duplicate-services.hex', what: 'services "ssh" and "ssh" (the first renamed from "gpu", re-signed)', ...decode, error: 'MalformedFieldError' },
    await resign(patched(two, first + 1, [0x73, 0x73, 0x68]), bob))
  add({ file: 'record-unsorted-services.hex', what: 'services "tpu" then "ssh" (the first renamed from "gpu", re-signed): not sorted by name', ...decode, error: 'MalformedFieldError' },
    await resign(patched(two, first + 1, [0x74]), bob))
  add({ file: 'record-bad-proto.hex', what: 'the protocol byte of "gpu" is 4 (only 0 to 3 are defined), re-signed', ...decode, error: 'MalformedFieldError' },
    await resign(patched(two, first + 4, [4]), bob))
  add({ file: 'record-port-zero.hex', what: 'the port of "ssh" is 0, re-signed', ...decode, error: 'MalformedFieldError' },
    await resign(patched(two, second + 5, [0, 0]), bob))
  add({ file: 'record-address-of-another-peer.hex', what: 'an address ending /p2p/<mallory> in bob\'s record (re-signed)', ...decode, error: 'MalformedFieldError' },
    await resign(await (async () => {
      const { mallory: malloryId } = await keys()
      const own = await sign({ addresses: [`/ip4/192.0.2.20/tcp/4001/p2p/${bobId}`] })
      const at = own.length - 2 - SIGNATURE - 38
      return patched(own, at, malloryId.toMultihash().bytes)
    })(), bob))

  const manifest: Manifest = {
    generator: 'test/records/generate-fixtures.ts: run `node test/records/generate-fixtures.ts` to rewrite this folder; fixtures.test.ts checks it matches',
    seeds: 'Ed25519 seeds of one repeated byte (test/membership/vectors.ts): network 01, bob 02, alice 03, other network 04, mallory 05; now is unix seconds (1767312000 = 2026-01-02T00:00:00Z)',
    fixtures
  }
  return { manifest, files }
}

if (import.meta.filename === process.argv[1]) writeCorpus(FIXTURE_DIRECTORY, await buildFixtures())
