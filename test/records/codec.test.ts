import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromMultihash, peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { toString } from 'uint8arrays/to-string'
import { signCertificate, signRevocationList } from '../../protocols/membership/index.ts'
import { signedData } from '../../protocols/membership/signing.ts'
import {
  decodeMemberRecord, MAX_MEMBER_RECORD_BYTES, MAX_PUBLISHED_SERVICES, MAX_RECORD_ADDRESSES, MAX_RECORD_TTL_SECONDS,
  MEMBER_RECORD_DHT_NAMESPACE, MEMBER_RECORD_DHT_PREFIX, MEMBER_RECORD_DOMAIN, memberRecordKey, networkMembersCid,
  PROTO_CODES, RECORD_REFRESH_SECONDS, RECORD_TTL_SECONDS, selectMemberRecord, serviceProvidersCid, signMemberRecord,
  validateMemberRecord, verifyMemberRecord
} from '../../protocols/records/index.ts'
import type { MemberRecordFields, PublishedService } from '../../protocols/records/index.ts'
import {
  certificateExample, concatBytes, EXPIRES_AT, keys, NOT_AFTER, NOT_BEFORE, NOW, peerKeys, plainRecord,
  recordExample, SEQUENCE
} from './vectors.ts'

/** Asserts that `fn` throws (or rejects with) an error of this name, and returns its message. */
async function errorOf (fn: () => unknown, name: string): Promise<string> {
  let message = ''
  await assert.rejects(async () => fn(), (err: Error) => {
    assert.equal(err.name, name, err.message)
    assert.doesNotMatch(err.message, /\n/)
    message = err.message
    return true
  })
  return message
}

/** `count` services named s00, s01, ... padded to `length` characters. */
function services (count: number, length = 3): PublishedService[] {
  return Array.from({ length: count }, (_, i) => ({ name: `s${String(i).padStart(2, '0')}`.padEnd(length, 'x'), proto: 'tcp' as const, port: 1000 + i }))
}

/** Replaces a record's Ed25519 signature by `key`'s over its body. */
async function resign (bytes: Uint8Array, key: { sign: (data: Uint8Array) => Uint8Array | Promise<Uint8Array> }): Promise<Uint8Array> {
  const body = bytes.subarray(0, bytes.length - 66)
  return concatBytes(body, Uint8Array.of(0, 64), Uint8Array.from(await key.sign(signedData(MEMBER_RECORD_DOMAIN, body))))
}

describe('constants', () => {
  it('are those of SPEC.md', () => {
    assert.equal(MEMBER_RECORD_DHT_NAMESPACE, 'agentmesh-member')
    assert.equal(MEMBER_RECORD_DHT_PREFIX, '/agentmesh-member/')
    assert.equal(MEMBER_RECORD_DOMAIN, 'agentmesh member record v1')
    assert.equal(MAX_MEMBER_RECORD_BYTES, 4096)
    assert.equal(MAX_RECORD_TTL_SECONDS, 7200)
    assert.equal(RECORD_TTL_SECONDS, 3600)
    assert.equal(RECORD_REFRESH_SECONDS, 1200)
    assert.deepEqual(PROTO_CODES, { tcp: 0, http: 1, grpc: 2, ssh: 3 })
    // the daemon's refresh and TTL leave room for missed refreshes and skewed clocks
    assert.ok(3 * RECORD_REFRESH_SECONDS <= RECORD_TTL_SECONDS && RECORD_TTL_SECONDS < MAX_RECORD_TTL_SECONDS)
  })
})

describe('signMemberRecord', () => {
  const invalid: Array<[string, Partial<MemberRecordFields>, string]> = [
    ['a service name with a space', { services: [{ name: 'my api', proto: 'http', port: 80 }] }, 'MalformedFieldError'],
    ['an empty service name', { services: [{ name: '', proto: 'http', port: 80 }] }, 'MalformedFieldError'],
    ['a 65-character service name', { services: [{ name: 'a'.repeat(65), proto: 'http', port: 80 }] }, 'MalformedFieldError'],
    ['an unknown protocol', { services: [{ name: 'api', proto: 'udp' as 'tcp', port: 80 }] }, 'MalformedFieldError'],
    ['port 0', { services: [{ name: 'api', proto: 'http', port: 0 }] }, 'MalformedFieldError'],
    ['port 65536', { services: [{ name: 'api', proto: 'http', port: 65536 }] }, 'MalformedFieldError'],
    ['a fractional port', { services: [{ name: 'api', proto: 'http', port: 80.5 }] }, 'MalformedFieldError'],
    ['a service twice', { services: [{ name: 'api', proto: 'http', port: 80 }, { name: 'api', proto: 'grpc', port: 81 }] }, 'MalformedFieldError'],
    [`${MAX_PUBLISHED_SERVICES + 1} services`, { services: services(MAX_PUBLISHED_SERVICES + 1) }, 'TooLargeError'],
    [`${MAX_RECORD_ADDRESSES + 1} addresses`, { addresses: Array.from({ length: MAX_RECORD_ADDRESSES + 1 }, (_, i) => `/ip4/192.0.2.${i}/tcp/4001`) }, 'TooLargeError'],
    ['an address that is not a multiaddr', { addresses: ['192.0.2.1:4001'] }, 'MalformedFieldError'],
    ['an address twice', { addresses: ['/ip4/192.0.2.1/tcp/4001', '/ip4/192.0.2.1/tcp/4001'] }, 'MalformedFieldError'],
    ['an address over 512 bytes', { addresses: [`/dns4/${'a'.repeat(250)}/tcp/1${'/p2p-circuit'.repeat(130)}`] }, 'TooLargeError'],
    ['a sequence of 2^64', { sequence: 2n ** 64n }, 'MalformedFieldError'],
    ['a negative sequence', { sequence: -1n }, 'MalformedFieldError'],
    ['a fractional expiresAt', { expiresAt: NOW + 0.5 }, 'MalformedFieldError'],
    ['an expiresAt past 2^53 - 1', { expiresAt: 2 ** 53 }, 'MalformedFieldError'],
    ['services that are not a list', { services: 'ssh' as unknown as PublishedService[] }, 'MalformedFieldError'],
    ['32 services of 64 characters and 8 long addresses (over 4096 bytes)', {
      services: services(32, 64),
      addresses: Array.from({ length: 8 }, (_, i) => `/dns4/${String(i).padEnd(200, 'h')}.example/tcp/4001`)
    }, 'TooLargeError']
  ]
  for (const [what, change, name] of invalid) {
    it(`refuses ${what}: ${name}`, async () => {
      const { bob } = await peerKeys()
      await errorOf(async () => signMemberRecord({ ...await recordExample(), ...change }, bob), name)
    })
  }

  it('refuses an address that ends with another peer than the member, and accepts one that ends with the member', async () => {
    const { bob, mallory } = await keys()
    const keysOf = await peerKeys()
    const fields = await recordExample()
    await errorOf(async () => signMemberRecord({ ...fields, addresses: [`/ip4/192.0.2.1/tcp/4001/p2p/${mallory}`] }, keysOf.bob), 'MalformedFieldError')
    const record = await signMemberRecord({ ...fields, addresses: [`/ip4/192.0.2.1/tcp/4001/p2p/${bob}`] }, keysOf.bob)
    assert.deepEqual(decodeMemberRecord(record.bytes).addresses, [`/ip4/192.0.2.1/tcp/4001/p2p/${bob}`])
  })

  it('refuses to sign with another key than the certificate\'s peer: PeerMismatchError', async () => {
    const { mallory } = await peerKeys()
    const message = await errorOf(async () => signMemberRecord(await recordExample(), mallory), 'PeerMismatchError')
    assert.match(message, /must be signed by its certificate's peer 12D3KooWJWoaq/)
  })

  it('refuses a certificate whose peer id does not embed its key (RSA): MalformedFieldError', async () => {
    const { network } = await keys()
    const { bob } = await peerKeys()
    const rsa = peerIdFromMultihash(Digest.create(0x12, new Uint8Array(32).fill(7)))
    const certificate = await signCertificate({ ...await certificateExample(), peerId: rsa }, network)
    await errorOf(async () => signMemberRecord({ ...await recordExample(), certificate }, bob), 'MalformedFieldError')
  })

  it('signs the smallest record (no service, no address) and the largest that fits', async () => {
    const { bob } = await peerKeys()
    const fields = await recordExample()
    const empty = await signMemberRecord({ ...fields, services: [], addresses: [] }, bob)
    assert.equal(empty.bytes.length, 1 + 2 + fields.certificate.bytes.length + 8 + 8 + 1 + 1 + 2 + 64)
    assert.deepEqual(plainRecord(decodeMemberRecord(empty.bytes)), plainRecord(empty))
    const large = await signMemberRecord({
      ...fields,
      services: services(32, 64),
      addresses: Array.from({ length: 4 }, (_, i) => `/dns4/${String(i).padEnd(200, 'h')}.example/tcp/4001`)
    }, bob)
    assert.ok(large.bytes.length <= MAX_MEMBER_RECORD_BYTES && large.bytes.length > 3000, String(large.bytes.length))
    assert.deepEqual(plainRecord(decodeMemberRecord(large.bytes)), plainRecord(large))
  })

  it('signs and verifies with a secp256k1 identity too (a DER signature of up to 72 bytes)', async () => {
    const { network } = await keys()
    const key = await generateKeyPair('secp256k1')
    const peerId = peerIdFromPrivateKey(key)
    const certificate = await signCertificate({ ...await certificateExample(), peerId }, network)
    const record = await signMemberRecord({ ...await recordExample(), certificate }, key)
    assert.ok(record.signature.length > 64 && record.signature.length <= 72)
    await verifyMemberRecord(record, { now: NOW, networkKey: network.publicKey.raw, name: 'bob' })
    await validateMemberRecord(memberRecordKey(network.publicKey.raw, 'bob'), record.bytes, { now: NOW })
    const tampered = Uint8Array.from(record.bytes)
    tampered[1 + 2 + certificate.bytes.length + 7] ^= 1
    await errorOf(async () => verifyMemberRecord(decodeMemberRecord(tampered), { now: NOW }), 'BadSignatureError')
  })
})

describe('decodeMemberRecord', () => {
  it('refuses a signature length off the key type, an over-long one, and input that is not bytes', async () => {
    const { bob } = await peerKeys()
    const record = (await signMemberRecord(await recordExample(), bob)).bytes
    const body = record.subarray(0, record.length - 66)
    await errorOf(() => decodeMemberRecord(concatBytes(body, Uint8Array.of(0, 63), new Uint8Array(63))), 'MalformedFieldError')
    await errorOf(() => decodeMemberRecord(concatBytes(body, Uint8Array.of(0, 0))), 'MalformedFieldError')
    await errorOf(() => decodeMemberRecord(concatBytes(body, Uint8Array.of(0, 73), new Uint8Array(73))), 'TooLargeError')
    await errorOf(() => decodeMemberRecord('record' as unknown as Uint8Array), 'MalformedFieldError')
    await errorOf(() => decodeMemberRecord(new Uint8Array(0)), 'TruncatedError')
  })

  it('refuses a certificate length over 1024 before reading it, and a certificate that does not decode', async () => {
    await errorOf(() => decodeMemberRecord(Uint8Array.of(1, 0x04, 0x01)), 'TooLargeError')
    await errorOf(() => decodeMemberRecord(Uint8Array.of(1, 0, 1, 2)), 'UnsupportedVersionError')
  })

  it('holds a copy of the input', async () => {
    const { bob } = await peerKeys()
    const bytes = Uint8Array.from((await signMemberRecord(await recordExample(), bob)).bytes)
    const record = decodeMemberRecord(bytes)
    bytes.fill(0)
    assert.notDeepEqual(record.bytes, bytes)
    await verifyMemberRecord(record, { now: NOW })
  })
})

describe('verifyMemberRecord', () => {
  it('checks the network, then the certificate, then the name, then the record signature, then the times', async () => {
    const { network, otherNetwork } = await keys()
    const { bob, mallory } = await peerKeys()
    const fields = await recordExample()
    const record = await signMemberRecord(fields, bob)
    const forged = decodeMemberRecord(await resign(record.bytes, mallory))
    // a forged record of the wrong network and the wrong name: the network decides
    await errorOf(async () => verifyMemberRecord(forged, { now: NOW, networkKey: otherNetwork.publicKey.raw, name: 'carol' }), 'WrongNetworkError')
    await errorOf(async () => verifyMemberRecord(forged, { now: NOW, networkKey: network.publicKey.raw, name: 'carol' }), 'NameMismatchError')
    await errorOf(async () => verifyMemberRecord(forged, { now: EXPIRES_AT, networkKey: network.publicKey.raw, name: 'bob' }), 'BadSignatureError')
    // the certificate's validity before the record's
    await errorOf(async () => verifyMemberRecord(record, { now: NOT_AFTER }), 'ExpiredCertificateError')
    await errorOf(async () => verifyMemberRecord(record, { now: NOT_BEFORE - 301 }), 'NotYetValidError')
  })

  it('accepts expiresAt up to MAX_RECORD_TTL_SECONDS ahead, and refuses one second more', async () => {
    const { bob } = await peerKeys()
    const record = await signMemberRecord(await recordExample(), bob)
    await verifyMemberRecord(record, { now: EXPIRES_AT - MAX_RECORD_TTL_SECONDS })
    const message = await errorOf(async () => verifyMemberRecord(record, { now: EXPIRES_AT - MAX_RECORD_TTL_SECONDS - 1 }), 'TtlTooLongError')
    assert.match(message, /more than 7200 s after/)
    assert.equal(await errorOf(async () => verifyMemberRecord(record, { now: EXPIRES_AT }), 'ExpiredRecordError'),
      'the member record of "bob" expired at 2026-01-02T01:00:00Z')
  })

  it('refuses a revoked certificate (serial or peer), follows a reissued one, and refuses a list of another network', async () => {
    const { network, otherNetwork, bob: bobId } = await keys()
    const { bob } = await peerKeys()
    const networkKey = network.publicKey.raw
    const record = await signMemberRecord(await recordExample(), bob)
    const bySerial = await signRevocationList({ networkKey, version: 1n, entries: [{ peerId: bobId, serial: 1n }] }, network)
    const byPeer = await signRevocationList({ networkKey, version: 2n, entries: [{ peerId: bobId, serial: 0n }] }, network)
    await errorOf(async () => verifyMemberRecord(record, { now: NOW, networkKey, revocations: bySerial }), 'RevokedError')
    await errorOf(async () => verifyMemberRecord(record, { now: NOW, networkKey, revocations: byPeer }), 'RevokedError')
    const reissued = await signCertificate({ ...await certificateExample(), serial: 2n }, network)
    await verifyMemberRecord(await signMemberRecord({ ...await recordExample(), certificate: reissued }, bob), { now: NOW, networkKey, revocations: bySerial })
    const other = await signRevocationList({ networkKey: otherNetwork.publicKey.raw, version: 1n, entries: [] }, otherNetwork)
    await errorOf(async () => verifyMemberRecord(record, { now: NOW, networkKey, revocations: other }), 'WrongNetworkError')
  })

  it('verifies the record\'s bytes, not fields changed on the object', async () => {
    const { bob } = await peerKeys()
    const record = await signMemberRecord(await recordExample(), bob)
    await verifyMemberRecord({ ...record, expiresAt: 0 }, { now: NOW })
    await errorOf(async () => verifyMemberRecord({ ...record, bytes: record.bytes.subarray(1) }, { now: NOW }), 'UnsupportedVersionError')
  })
})

describe('a name that moves to a new peer id', () => {
  it('readers follow the higher sequence once its certificate verifies, and never a revoked old peer', async () => {
    const { network, bob: bobId } = await keys()
    const networkKey = network.publicKey.raw
    const { bob } = await peerKeys()
    const newKey = await generateKeyPair('Ed25519')
    const newPeer = peerIdFromPrivateKey(newKey)
    const oldRecord = await signMemberRecord(await recordExample(), bob)
    const newCertificate = await signCertificate({ ...await certificateExample(), peerId: newPeer, serial: 2n }, network)
    const newRecord = await signMemberRecord({ ...await recordExample(), certificate: newCertificate, sequence: SEQUENCE + 60_000n, addresses: [] }, newKey)
    const key = memberRecordKey(networkKey, 'bob')
    // same key: both are bob's; servers accept both and the selector prefers the newer
    await validateMemberRecord(key, oldRecord.bytes, { now: NOW })
    await validateMemberRecord(key, newRecord.bytes, { now: NOW })
    assert.equal(selectMemberRecord(key, [oldRecord.bytes, newRecord.bytes]), 1)
    await verifyMemberRecord(newRecord, { now: NOW, networkKey, name: 'bob' })
    assert.ok(decodeMemberRecord(newRecord.bytes).certificate.peerId.equals(newPeer))
    // the old peer keeps publishing with a higher sequence: a reader holding the list that revokes it refuses it
    const revocations = await signRevocationList({ networkKey, version: 1n, entries: [{ peerId: bobId, serial: 0n }] }, network)
    const stale = await signMemberRecord({ ...await recordExample(), sequence: SEQUENCE + 120_000n }, bob)
    assert.equal(selectMemberRecord(key, [newRecord.bytes, stale.bytes]), 1)
    await errorOf(async () => verifyMemberRecord(stale, { now: NOW, networkKey, revocations, name: 'bob' }), 'RevokedError')
    await verifyMemberRecord(newRecord, { now: NOW, networkKey, revocations, name: 'bob' })
  })
})

describe('validateMemberRecord', () => {
  it('uses the system clock when kad-dht calls it (key and value only, or with a signal)', async () => {
    const { network } = await keys()
    const key = await generateKeyPair('Ed25519')
    const now = Math.floor(Date.now() / 1000)
    const certificate = await signCertificate({ ...await certificateExample(), peerId: peerIdFromPrivateKey(key), notBefore: now - 60, notAfter: now + 86_400 }, network)
    const record = await signMemberRecord({ ...await recordExample(), certificate, sequence: BigInt(Date.now()), expiresAt: now + RECORD_TTL_SECONDS }, key)
    const dhtKey = memberRecordKey(network.publicKey.raw, 'bob')
    await validateMemberRecord(dhtKey, record.bytes)
    await validateMemberRecord(dhtKey, record.bytes, { signal: AbortSignal.timeout(1000) })
    // by the clock, the examples' record of 2026-01-02 carries a certificate that has ended (or not started)
    await assert.rejects(validateMemberRecord(dhtKey, (await signMemberRecord(await recordExample(), (await peerKeys()).bob)).bytes),
      { name: now >= NOT_AFTER ? 'ExpiredCertificateError' : 'NotYetValidError' })
  })

  it('refuses a key of another name, of another network, without its prefix, or not bytes: KeyMismatchError', async () => {
    const { network, otherNetwork } = await keys()
    const { bob } = await peerKeys()
    const record = await signMemberRecord(await recordExample(), bob)
    const key = memberRecordKey(network.publicKey.raw, 'bob')
    for (const wrong of [
      memberRecordKey(network.publicKey.raw, 'alice'),
      memberRecordKey(otherNetwork.publicKey.raw, 'bob'),
      key.subarray(MEMBER_RECORD_DHT_PREFIX.length),
      concatBytes(key, Uint8Array.of(0x30)),
      toString(key) as unknown as Uint8Array
    ]) {
      await errorOf(async () => validateMemberRecord(wrong, record.bytes, { now: NOW }), 'KeyMismatchError')
    }
  })

  it('refuses a certificate whose own signature is bad, even with a good record signature', async () => {
    const { network } = await keys()
    const { bob } = await peerKeys()
    const fields = await recordExample()
    const certificate = Uint8Array.from(fields.certificate.bytes)
    certificate[certificate.length - 1] ^= 1
    const record = (await signMemberRecord(fields, bob)).bytes
    const patched = Uint8Array.from(record)
    patched.set(certificate, 3)
    await errorOf(async () => validateMemberRecord(memberRecordKey(network.publicKey.raw, 'bob'), await resign(patched, bob), { now: NOW }), 'BadSignatureError')
  })
})

describe('selectMemberRecord', () => {
  it('picks the highest sequence, then the later expiry, then the smaller bytes, whatever the order; undecodable records never win', async () => {
    const { bob } = await peerKeys()
    const fields = await recordExample()
    const key = memberRecordKey((await keys()).network.publicKey.raw, 'bob')
    const sign = async (change: Partial<MemberRecordFields>): Promise<Uint8Array> => (await signMemberRecord({ ...fields, ...change }, bob)).bytes
    const older = await sign({ sequence: SEQUENCE - 1n, expiresAt: EXPIRES_AT + 60 })
    const newer = await sign({})
    const longer = await sign({ expiresAt: EXPIRES_AT + 1 })
    const fewer = await sign({ services: [] })
    const garbage = Uint8Array.of(1, 2, 3)
    assert.equal(selectMemberRecord(key, [older, newer]), 1)
    assert.equal(selectMemberRecord(key, [newer, older]), 0)
    assert.equal(selectMemberRecord(key, [newer, longer, older]), 1)
    // same sequence and expiry: the byte-wise smaller one, in either order
    const smaller = toString(newer, 'base16') < toString(fewer, 'base16') ? newer : fewer
    assert.equal([newer, fewer][selectMemberRecord(key, [newer, fewer])], smaller)
    assert.equal([fewer, newer][selectMemberRecord(key, [fewer, newer])], smaller)
    assert.equal(selectMemberRecord(key, [garbage, older]), 1)
    assert.equal(selectMemberRecord(key, [garbage, garbage]), 0)
    assert.equal(selectMemberRecord(key, []), 0)
  })
})

describe('keys', () => {
  it('memberRecordKey: the prefix and 64 hex digits, a namespace kad-dht routes, distinct per network and name', async () => {
    const { network, otherNetwork } = await keys()
    const key = toString(memberRecordKey(network.publicKey.raw, 'bob'))
    assert.match(key, /^\/agentmesh-member\/[0-9a-f]{64}$/)
    assert.equal(key.split('/')[1], MEMBER_RECORD_DHT_NAMESPACE)
    assert.notEqual(toString(memberRecordKey(otherNetwork.publicKey.raw, 'bob')), key)
    assert.notEqual(toString(memberRecordKey(network.publicKey.raw, 'bob2')), key)
    await errorOf(() => memberRecordKey(network.publicKey.raw, 'Bob'), 'MalformedFieldError')
    await errorOf(() => memberRecordKey(new Uint8Array(31), 'bob'), 'MalformedFieldError')
  })

  it('provider CIDs: CIDv1 raw sha2-256, distinct per network and service, refusing a bad service name', async () => {
    const { network, otherNetwork } = await keys()
    const members = networkMembersCid(network.publicKey.raw)
    assert.equal(members.version, 1)
    assert.equal(members.code, 0x55)
    assert.equal(members.multihash.code, 0x12)
    assert.ok(!networkMembersCid(otherNetwork.publicKey.raw).equals(members))
    const service = serviceProvidersCid(network.publicKey.raw, 'inference')
    assert.ok(!service.equals(serviceProvidersCid(network.publicKey.raw, 'Inference')))
    assert.ok(!service.equals(serviceProvidersCid(otherNetwork.publicKey.raw, 'inference')))
    assert.ok(!service.equals(members))
    await errorOf(() => serviceProvidersCid(network.publicKey.raw, '*/inference'), 'MalformedFieldError')
    await errorOf(() => serviceProvidersCid(network.publicKey.raw, ''), 'MalformedFieldError')
    await errorOf(() => networkMembersCid(new Uint8Array(33)), 'MalformedFieldError')
  })
})
