/**
 * Builds the hostile corpus of test/fixtures/membership/ from the fixed keys
 * of vectors.ts: `node test/membership/generate-fixtures.ts` rewrites the
 * files and manifest.json; fixtures.test.ts checks that the committed files
 * are exactly what this builds.
 */

import { toString } from 'uint8arrays/to-string'
import { fromString } from 'uint8arrays/from-string'
import {
  CERTIFICATE_DOMAIN, encodeMessage, encodeToken, MAX_CERTIFICATE_BYTES, MAX_MESSAGE_BYTES, MAX_TOKEN_CHARS,
  REVOCATIONS_DOMAIN, signCertificate, signRevocationList, TOKEN_PREFIX
} from '../../protocols/membership/index.ts'
import { signedData } from '../../protocols/membership/signing.ts'
import {
  certificateExample, keys, NOT_AFTER, NOT_BEFORE, NOW, tokenAddresses
} from './vectors.ts'
import { concatBytes, hexDump, writeCorpus } from '../helpers/spec-corpus.ts'
import type { CorpusManifest } from '../helpers/spec-corpus.ts'
import type { PrivateKey } from '@libp2p/interface'

export const FIXTURE_DIRECTORY = new URL('../fixtures/membership/', import.meta.url)

/** How fixtures.test.ts checks one file. */
export interface Fixture {
  file: string
  what: string
  kind: 'certificate' | 'revocation-list' | 'token' | 'message'
  /** `decode`: decoding throws `error`; `verify`: decoding succeeds and verifying throws `error`. */
  check: 'decode' | 'verify'
  verify?: {
    now?: number
    /** which key of vectors.ts the verifier expects */
    networkKey: 'network' | 'otherNetwork'
    /** who presents the certificate */
    peer?: 'bob' | 'mallory'
    /** a revocation list fixture the verifier holds */
    revocations?: string
  }
  /** The error's `name`, or null for a valid file other fixtures use. */
  error: string | null
}

export type Manifest = CorpusManifest<Fixture>

/** Offsets of fields in the example certificate (SPEC.md section 8.1). */
const AT = { version: 0, vni: 39, peerId: 43, name: 82, group2: 91, role: 94, notBefore: 95, notAfter: 103, serial: 111 }
const SIGNATURE = 64

async function resign (bytes: Uint8Array, domain: string, key: PrivateKey): Promise<Uint8Array> {
  const body = bytes.subarray(0, bytes.length - SIGNATURE)
  return concatBytes(body, Uint8Array.from(await key.sign(signedData(domain, body))))
}

function patched (bytes: Uint8Array, offset: number, patch: Uint8Array | number[]): Uint8Array {
  const copy = Uint8Array.from(bytes)
  copy.set(patch, offset)
  return copy
}

function u64 (value: number): Uint8Array {
  const bytes = new Uint8Array(8)
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value))
  return bytes
}

export async function buildFixtures (): Promise<{ manifest: Manifest, files: Map<string, string> }> {
  const { network, otherNetwork, bob, mallory } = await keys()
  const fields = await certificateExample()
  const cert = (await signCertificate(fields, network)).bytes
  const fixtures: Fixture[] = []
  const files = new Map<string, string>()
  const verifyAsBob = { now: NOW, networkKey: 'network', peer: 'bob' } as const

  const add = (fixture: Fixture, content: Uint8Array | string): void => {
    fixtures.push(fixture)
    files.set(fixture.file, typeof content === 'string' ? `${content}\n` : hexDump(content, fixture.what))
  }
  const certificate = async (file: string, what: string, error: string | null, bytes: Uint8Array | Promise<Uint8Array>, verify?: Fixture['verify']): Promise<void> => {
    add({ file, what, kind: 'certificate', check: verify === undefined ? 'decode' : 'verify', ...(verify === undefined ? {} : { verify }), error }, await bytes)
  }
  const resignCert = async (bytes: Uint8Array): Promise<Uint8Array> => resign(bytes, CERTIFICATE_DOMAIN, network)

  // certificates that decode but must not verify
  await certificate('certificate-tampered.hex', 'bob\'s certificate with its name changed to "bod" after signing', 'BadSignatureError',
    patched(cert, AT.name + 2, [0x64]), verifyAsBob)
  await certificate('certificate-expired.hex', 'valid 2025-01-01 to 2025-01-31, verified on 2026-01-02', 'ExpiredCertificateError',
    signCertificate({ ...fields, notBefore: NOT_BEFORE - 365 * 86_400, notAfter: NOT_AFTER - 365 * 86_400 }, network).then((c) => c.bytes), verifyAsBob)
  await certificate('certificate-not-yet-valid.hex', 'valid from 2027-01-01, verified on 2026-01-02', 'NotYetValidError',
    signCertificate({ ...fields, notBefore: NOT_BEFORE + 365 * 86_400, notAfter: NOT_AFTER + 365 * 86_400 }, network).then((c) => c.bytes), verifyAsBob)
  await certificate('certificate-other-network.hex', 'bob\'s certificate in another network (seed 04), verified for fleet (seed 01)', 'WrongNetworkError',
    signCertificate({ ...fields, networkKey: otherNetwork.publicKey.raw }, otherNetwork).then((c) => c.bytes), verifyAsBob)
  await certificate('certificate-replayed.hex', 'bob\'s valid certificate presented by mallory', 'PeerMismatchError',
    cert, { ...verifyAsBob, peer: 'mallory' })
  await certificate('certificate-revoked-peer.hex', 'bob\'s valid certificate; the list revokes every certificate of bob (serial 0)', 'RevokedError',
    cert, { ...verifyAsBob, revocations: 'revocations-peer.hex' })
  await certificate('certificate-revoked-serial.hex', 'bob\'s valid certificate, serial 1; the list revokes bob\'s serial 1', 'RevokedError',
    cert, { ...verifyAsBob, revocations: 'revocations-serial.hex' })
  await certificate('certificate-reissued.hex', 'bob\'s reissued certificate, serial 2: valid despite the list that revokes serial 1', null,
    signCertificate({ ...fields, serial: 2n }, network).then((c) => c.bytes), { ...verifyAsBob, revocations: 'revocations-serial.hex' })

  // certificates that must not decode (re-signed, so only the field is wrong)
  await certificate('certificate-truncated.hex', 'bob\'s certificate cut after 150 of 183 bytes', 'TruncatedError', cert.subarray(0, 150))
  await certificate('certificate-trailing-bytes.hex', 'bob\'s certificate and one more byte', 'TrailingBytesError', concatBytes(cert, Uint8Array.of(0)))
  await certificate('certificate-oversize.hex', `bob's certificate padded to ${MAX_CERTIFICATE_BYTES + 1} bytes`, 'TooLargeError',
    concatBytes(cert, new Uint8Array(MAX_CERTIFICATE_BYTES + 1 - cert.length)))
  await certificate('certificate-version-2.hex', 'format version 2', 'UnsupportedVersionError', resignCert(patched(cert, AT.version, [2])))
  await certificate('certificate-bad-role.hex', 'role byte 3', 'MalformedFieldError', resignCert(patched(cert, AT.role, [3])))
  await certificate('certificate-vni-zero.hex', 'VNI 0, reserved for allowlist tunnels', 'MalformedFieldError', resignCert(patched(cert, AT.vni, [0, 0, 0])))
  await certificate('certificate-serial-zero.hex', 'serial 0', 'MalformedFieldError', resignCert(patched(cert, AT.serial, u64(0))))
  await certificate('certificate-duplicate-groups.hex', 'groups "ops" and "ops"', 'MalformedFieldError', resignCert(patched(cert, AT.group2, [0x6f, 0x70, 0x73])))
  await certificate('certificate-uppercase-name.hex', 'member name "Bob"', 'MalformedFieldError', resignCert(patched(cert, AT.name, [0x42])))
  await certificate('certificate-validity-reversed.hex', 'notAfter before notBefore', 'MalformedFieldError',
    resignCert(patched(patched(cert, AT.notBefore, u64(NOT_AFTER)), AT.notAfter, u64(NOT_BEFORE))))
  await certificate('certificate-bad-peer-id.hex', 'peer id with key type 7 in its protobuf (no such key type)', 'MalformedFieldError',
    resignCert(patched(cert, AT.peerId + 3, [7])))

  // revocation lists
  const list = async (entries: Array<{ peerId: typeof bob, serial: bigint }>, version: bigint): Promise<Uint8Array> =>
    (await signRevocationList({ networkKey: network.publicKey.raw, version, entries }, network)).bytes
  const revocation = (fixture: Omit<Fixture, 'kind'>, bytes: Uint8Array): void => add({ ...fixture, kind: 'revocation-list' }, bytes)
  const byPeer = await list([{ peerId: bob, serial: 0n }], 1n)
  const bySerial = await list([{ peerId: bob, serial: 1n }], 2n)
  revocation({ file: 'revocations-peer.hex', what: 'version 1: every certificate of bob (serial 0)', check: 'verify', verify: { networkKey: 'network' }, error: null }, byPeer)
  revocation({ file: 'revocations-serial.hex', what: 'version 2: bob\'s serial 1', check: 'verify', verify: { networkKey: 'network' }, error: null }, bySerial)
  revocation({ file: 'revocations-tampered.hex', what: 'bob\'s serial 1 changed to serial 9 after signing', check: 'verify', verify: { networkKey: 'network' }, error: 'BadSignatureError' },
    patched(bySerial, bySerial.length - SIGNATURE - 1, [9]))
  revocation({ file: 'revocations-other-network.hex', what: 'a list signed by another network key (seed 04), verified for fleet', check: 'verify', verify: { networkKey: 'network' }, error: 'WrongNetworkError' },
    (await signRevocationList({ networkKey: otherNetwork.publicKey.raw, version: 1n, entries: [{ peerId: bob, serial: 0n }] }, otherNetwork)).bytes)
  {
    // swap the two entries of the SPEC example (mallory sorts first) and re-sign
    const sorted = await list([{ peerId: mallory, serial: 0n }, { peerId: bob, serial: 1n }], 3n)
    const entries = sorted.subarray(43, sorted.length - SIGNATURE)
    const half = entries.length / 2
    const swapped = concatBytes(sorted.subarray(0, 43), entries.subarray(half), entries.subarray(0, half), sorted.subarray(sorted.length - SIGNATURE))
    revocation({ file: 'revocations-unsorted.hex', what: 'bob\'s entry before mallory\'s: not in canonical order', check: 'decode', error: 'MalformedFieldError' },
      await resign(swapped, REVOCATIONS_DOMAIN, network))
  }

  // tokens
  const token = encodeToken({ certificate: (await signCertificate(fields, network)), addresses: await tokenAddresses() })
  const payload = fromString(token.slice(TOKEN_PREFIX.length), 'base64url')
  const tokenFixture = (file: string, what: string, error: string, text: string): void => add({ file, what, kind: 'token', check: 'decode', error }, text)
  tokenFixture('token-wrong-prefix.txt', 'the token of SPEC.md 8.3 with prefix "amtok_"', 'BadTokenError', `amtok_${token.slice(TOKEN_PREFIX.length)}`)
  tokenFixture('token-bad-base64.txt', 'the token with a "+" (standard base64, not base64url) in its payload', 'BadTokenError', `${token.slice(0, 40)}+${token.slice(41)}`)
  tokenFixture('token-truncated.txt', 'the token cut after 200 characters of payload', 'TruncatedError', token.slice(0, TOKEN_PREFIX.length + 200))
  tokenFixture('token-trailing-bytes.txt', 'the payload with one more byte', 'TrailingBytesError', TOKEN_PREFIX + toString(concatBytes(payload, Uint8Array.of(0)), 'base64url'))
  tokenFixture('token-too-long.txt', `${MAX_TOKEN_CHARS + 1} characters`, 'TooLargeError', TOKEN_PREFIX + 'A'.repeat(MAX_TOKEN_CHARS + 1 - TOKEN_PREFIX.length))
  tokenFixture('token-version-2.txt', 'a token of a format this node does not read ("amtok2_")', 'UnsupportedVersionError', `amtok2_${token.slice(TOKEN_PREFIX.length)}`)

  // messages
  const message = (file: string, what: string, error: string, bytes: Uint8Array): void => add({ file, what, kind: 'message', check: 'decode', error }, bytes)
  const hello = encodeMessage({ type: 'hello', certificates: [], revocations: [] })
  message('message-unknown-type.hex', 'message type 7', 'UnknownMessageTypeError', Uint8Array.of(7, 0, 0, 0, 0))
  message('message-too-large.hex', `a hello announcing ${MAX_MESSAGE_BYTES + 1} bytes (only the header is sent)`, 'TooLargeError',
    Uint8Array.of(1, ...u64(MAX_MESSAGE_BYTES + 1).subarray(4)))
  message('message-certificate-too-large.hex', 'a certificate message announcing 2000 bytes', 'TooLargeError', Uint8Array.of(3, 0, 0, 0x07, 0xd0))
  message('message-truncated.hex', 'a hello announcing 100 bytes; the stream ends after 2', 'TruncatedError', Uint8Array.of(1, 0, 0, 0, 100, 0, 0))
  message('message-trailing-bytes.hex', 'an empty hello and one more byte', 'TrailingBytesError', concatBytes(hello, Uint8Array.of(1)))
  message('message-body-trailing-bytes.hex', 'a hello whose body has one byte past its items', 'TrailingBytesError', Uint8Array.of(1, 0, 0, 0, 3, 0, 0, 0))
  message('message-truncated-certificate.hex', 'a certificate message whose certificate is cut after 150 bytes (lengths consistent)', 'TruncatedError',
    concatBytes(Uint8Array.of(3, 0, 0, 0, 152, 0, 150), cert.subarray(0, 150)))

  const manifest: Manifest = {
    generator: 'test/membership/generate-fixtures.ts: run `node test/membership/generate-fixtures.ts` to rewrite this folder; fixtures.test.ts checks it matches',
    seeds: 'Ed25519 seeds of one repeated byte (test/membership/vectors.ts): network 01, bob 02, alice 03, other network 04, mallory 05; verify.now is unix seconds',
    fixtures
  }
  return { manifest, files }
}

if (import.meta.filename === process.argv[1]) writeCorpus(FIXTURE_DIRECTORY, await buildFixtures())
