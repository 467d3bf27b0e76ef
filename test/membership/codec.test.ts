import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Uint8ArrayList } from 'uint8arraylist'
import { toString } from 'uint8arrays/to-string'
import {
  CLOCK_SKEW_SECONDS, decodeCertificate, decodeToken, encodeMessage, encodeToken, HANDSHAKE_TIMEOUT_MS,
  HANDSHAKES_PER_MINUTE_PER_PEER, isRevoked, MAX_CERTIFICATE_BYTES, MAX_HELLO_CERTIFICATES, MAX_MESSAGE_BYTES,
  MAX_REVOCATION_LIST_BYTES, MAX_REVOKED_ENTRIES, MEMBERSHIP_PROTOCOL, MessageDecoder, REVOCATIONS_DHT_PREFIX,
  signCertificate, signRevocationList, TOKEN_PREFIX, verifyCertificate, verifyRevocationList
} from '../../protocols/membership/index.ts'
import type { CertificateFields, MembershipMessage } from '../../protocols/membership/index.ts'
import { plainCertificate, plainMessage } from './helpers.ts'
import { certificateExample, keys, NOT_AFTER, NOT_BEFORE, NOW, revocationListExample, seed, tokenAddresses } from './vectors.ts'

/** Asserts that `fn` throws (or rejects with) an error of this name, and returns its message. */
async function errorOf (fn: () => unknown, name: string): Promise<string> {
  let message = ''
  await assert.rejects(async () => fn(), (err: Error) => {
    assert.equal(err.name, name, err.message)
    message = err.message
    return true
  })
  return message
}

describe('constants', () => {
  it('names the protocol and the limits of SPEC.md', () => {
    assert.equal(MEMBERSHIP_PROTOCOL, '/agentmesh/membership/1.0.0')
    assert.equal(CLOCK_SKEW_SECONDS, 300)
    assert.equal(HANDSHAKE_TIMEOUT_MS, 5000)
    assert.equal(HANDSHAKES_PER_MINUTE_PER_PEER, 20)
    assert.equal(MAX_REVOCATION_LIST_BYTES, 196_715)
    assert.equal(REVOCATIONS_DHT_PREFIX, '/agentmesh-revocations/')
    // a hello with 16 full certificates and one full list fits a message
    assert.ok(1 + MAX_HELLO_CERTIFICATES * (2 + MAX_CERTIFICATE_BYTES) + 1 + 4 + MAX_REVOCATION_LIST_BYTES <= MAX_MESSAGE_BYTES)
  })
})

describe('signCertificate', () => {
  const invalid: Array<[string, Partial<CertificateFields>, string]> = [
    ['an upper-case name', { name: 'Bob' }, 'MalformedFieldError'],
    ['a name starting with -', { name: '-bob' }, 'MalformedFieldError'],
    ['a 64-character name', { name: 'a'.repeat(64) }, 'MalformedFieldError'],
    ['an empty network name', { networkName: '' }, 'MalformedFieldError'],
    ['a group with a space', { groups: ['o ps'] }, 'MalformedFieldError'],
    ['a group twice', { groups: ['ops', 'ops'] }, 'MalformedFieldError'],
    ['17 groups', { groups: Array.from({ length: 17 }, (_, i) => `g${i}`) }, 'TooLargeError'],
    ['16 groups of 63 characters (over 1024 bytes)', { groups: Array.from({ length: 16 }, (_, i) => `${i.toString(16)}`.padEnd(63, 'x')) }, 'TooLargeError'],
    ['an unknown role', { role: 'root' as 'admin' }, 'MalformedFieldError'],
    ['VNI 0', { vni: 0 }, 'MalformedFieldError'],
    ['VNI 2^24', { vni: 0x100_0000 }, 'MalformedFieldError'],
    ['serial 0', { serial: 0n }, 'MalformedFieldError'],
    ['serial 2^64', { serial: 2n ** 64n }, 'MalformedFieldError'],
    ['notAfter equal to notBefore', { notAfter: NOT_BEFORE }, 'MalformedFieldError'],
    ['a fractional time', { notBefore: NOT_BEFORE + 0.5 }, 'MalformedFieldError'],
    ['a time past 2^53 - 1', { notAfter: 2 ** 53 }, 'MalformedFieldError'],
    ['a 31-byte network key', { networkKey: new Uint8Array(31) }, 'MalformedFieldError']
  ]
  for (const [what, change, name] of invalid) {
    it(`refuses ${what}: ${name}`, async () => {
      const { network } = await keys()
      await errorOf(async () => signCertificate({ ...await certificateExample(), ...change }, network), name)
    })
  }

  it('refuses to sign with another key than the network key', async () => {
    const { otherNetwork } = await keys()
    await errorOf(async () => signCertificate(await certificateExample(), otherNetwork), 'WrongNetworkError')
  })

  it('signs the largest certificate that fits, and every role', async () => {
    const { network } = await keys()
    const fields = { ...await certificateExample(), groups: Array.from({ length: 13 }, (_, i) => `${i.toString(16)}`.padEnd(63, '_')), role: 'admin' as const }
    const cert = await signCertificate(fields, network)
    assert.ok(cert.bytes.length <= MAX_CERTIFICATE_BYTES && cert.bytes.length > 900)
    assert.deepEqual(plainCertificate(decodeCertificate(cert.bytes)), plainCertificate(cert))
    for (const role of ['member', 'relay', 'admin'] as const) {
      assert.equal(decodeCertificate((await signCertificate({ ...fields, role }, network)).bytes).role, role)
    }
  })
})

describe('verifyCertificate', () => {
  it('allows CLOCK_SKEW_SECONDS before the window and none after it', async () => {
    const { network } = await keys()
    const cert = await signCertificate(await certificateExample(), network)
    await verifyCertificate(cert, { now: NOT_BEFORE - CLOCK_SKEW_SECONDS })
    await verifyCertificate(cert, { now: NOT_AFTER - 1 })
    const early = await errorOf(async () => verifyCertificate(cert, { now: NOT_BEFORE - CLOCK_SKEW_SECONDS - 1 }), 'NotYetValidError')
    assert.match(early, /not valid before 2026-01-01T00:00:00Z/)
    const late = await errorOf(async () => verifyCertificate(cert, { now: NOT_AFTER }), 'ExpiredCertificateError')
    assert.equal(late, 'the certificate expired at 2026-01-31T00:00:00Z')
  })

  it('names both peers on a mismatch', async () => {
    const { network, bob, mallory } = await keys()
    const cert = await signCertificate(await certificateExample(), network)
    const message = await errorOf(async () => verifyCertificate(cert, { now: NOW, peer: mallory }), 'PeerMismatchError')
    assert.equal(message, `this certificate was issued to ${bob}, not to ${mallory}`)
  })

  it('checks the network before the signature, the signature before the time', async () => {
    const { network, otherNetwork } = await keys()
    const cert = await signCertificate(await certificateExample(), network)
    const tampered = decodeCertificate(Uint8Array.from(cert.bytes, (byte, i) => i === cert.bytes.length - 1 ? byte ^ 1 : byte))
    await errorOf(async () => verifyCertificate(tampered, { now: 0, networkKey: otherNetwork.publicKey.raw }), 'WrongNetworkError')
    await errorOf(async () => verifyCertificate(tampered, { now: 0 }), 'BadSignatureError')
  })

  it('refuses a revocation list of another network', async () => {
    const { network, otherNetwork, bob } = await keys()
    const cert = await signCertificate(await certificateExample(), network)
    const list = await signRevocationList({ networkKey: otherNetwork.publicKey.raw, version: 1n, entries: [{ peerId: bob, serial: 0n }] }, otherNetwork)
    await errorOf(async () => verifyCertificate(cert, { now: NOW, revocations: list }), 'WrongNetworkError')
  })
})

describe('revocation lists', () => {
  it('isRevoked: serial 0 revokes every certificate of the peer, another serial only its own', async () => {
    const { network, bob, mallory } = await keys()
    const list = await signRevocationList(await revocationListExample(), network)
    assert.equal(isRevoked(undefined, bob, 1n), false)
    assert.equal(isRevoked(list, bob, 1n), true)
    assert.equal(isRevoked(list, bob, 2n), false)
    assert.equal(isRevoked(list, mallory, 12345n), true)
    const alice = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed(3)))
    assert.equal(isRevoked(list, alice, 1n), false)
  })

  it('refuses duplicate entries, too many entries, another signing key', async () => {
    const { network, otherNetwork, bob } = await keys()
    const networkKey = network.publicKey.raw
    await errorOf(async () => signRevocationList({ networkKey, version: 1n, entries: [{ peerId: bob, serial: 3n }, { peerId: bob, serial: 3n }] }, network), 'MalformedFieldError')
    await errorOf(async () => signRevocationList({ networkKey, version: 1n, entries: Array.from({ length: MAX_REVOKED_ENTRIES + 1 }, (_, i) => ({ peerId: bob, serial: BigInt(i) })) }, network), 'TooLargeError')
    await errorOf(async () => signRevocationList({ networkKey, version: -1n, entries: [] }, network), 'MalformedFieldError')
    await errorOf(async () => signRevocationList({ networkKey, version: 1n, entries: [] }, otherNetwork), 'WrongNetworkError')
  })

  it('a full list fits its cap and a revocations message', async () => {
    const { network, bob } = await keys()
    const entries = Array.from({ length: MAX_REVOKED_ENTRIES }, (_, i) => ({ peerId: bob, serial: BigInt(MAX_REVOKED_ENTRIES - i) }))
    const list = await signRevocationList({ networkKey: network.publicKey.raw, version: 9n, entries }, network)
    assert.ok(list.bytes.length <= MAX_REVOCATION_LIST_BYTES)
    await verifyRevocationList(list, network.publicKey.raw)
    assert.deepEqual(list.entries.map(({ serial }) => serial), entries.map(({ serial }) => serial).reverse())
    const decoded = new MessageDecoder().push(encodeMessage({ type: 'revocations', lists: [list] }))
    assert.equal(decoded?.type, 'revocations')
  })
})

describe('tokens', () => {
  it('refuses addresses without /p2p, of two peers, or too many', async () => {
    const { network, bob } = await keys()
    const certificate = await signCertificate(await certificateExample(), network)
    const addresses = await tokenAddresses()
    await errorOf(() => encodeToken({ certificate, addresses: ['/ip4/192.0.2.1/tcp/4001'] }), 'MalformedFieldError')
    await errorOf(() => encodeToken({ certificate, addresses: [addresses[0], `/ip4/192.0.2.1/tcp/1/p2p/${bob}`] }), 'MalformedFieldError')
    await errorOf(() => encodeToken({ certificate, addresses: ['not a multiaddr'] }), 'MalformedFieldError')
    await errorOf(() => encodeToken({ certificate, addresses: Array(9).fill(addresses[0]) }), 'TooLargeError')
    // no address is allowed: the joining node may find the network another way
    assert.deepEqual(decodeToken(encodeToken({ certificate, addresses: [] })).addresses, [])
  })

  it('gives a clear error for each way a pasted token goes wrong', async () => {
    const { network } = await keys()
    const token = encodeToken({ certificate: await signCertificate(await certificateExample(), network), addresses: await tokenAddresses() })
    await errorOf(() => decodeToken(`${token.slice(0, 50)} ${token.slice(50)}`), 'BadTokenError')
    await errorOf(() => decodeToken(`${token}=`), 'BadTokenError')
    await errorOf(() => decodeToken('ssh-ed25519 AAAA'), 'BadTokenError')
    await errorOf(() => decodeToken(TOKEN_PREFIX), 'TruncatedError')
    // a last character whose unused bits are not zero: not canonical
    await errorOf(() => decodeToken(`${TOKEN_PREFIX}AQB`), 'BadTokenError')
    // 5 characters (1 mod 4) can be no base64url at all
    await errorOf(() => decodeToken(`${TOKEN_PREFIX}AQIDB`), 'BadTokenError')
    const truncated = await errorOf(() => decodeToken(token.slice(0, 107)), 'TruncatedError')
    assert.match(truncated, /copy the whole token/)
  })
})

describe('MessageDecoder', () => {
  it('round trips each message type, in one chunk, byte by byte and as a Uint8ArrayList', async () => {
    const { network } = await keys()
    const certificate = await signCertificate(await certificateExample(), network)
    const other = await signCertificate({ ...await certificateExample(), serial: 2n, groups: [] }, network)
    const list = await signRevocationList(await revocationListExample(), network)
    const messages: MembershipMessage[] = [
      { type: 'hello', certificates: [certificate, other], revocations: [list] },
      { type: 'revocations', lists: [list, list] },
      { type: 'certificate', certificate }
    ]
    for (const message of messages) {
      const bytes = encodeMessage(message)
      assert.deepEqual(plainMessage(new MessageDecoder().push(bytes)!), plainMessage(message))
      const decoder = new MessageDecoder()
      for (const [i, byte] of bytes.entries()) {
        const result = decoder.push(Uint8Array.of(byte))
        assert.equal(result === undefined, i < bytes.length - 1)
        if (result !== undefined) assert.deepEqual(plainMessage(result), plainMessage(message))
      }
      decoder.end()
      assert.equal(decoder.push(new Uint8Array(0)), undefined)
      const list = new Uint8ArrayList(bytes.subarray(0, 3), bytes.subarray(3))
      assert.deepEqual(plainMessage(new MessageDecoder().push(list)!), plainMessage(message))
    }
  })

  it('refuses a bad type on the first byte and a long length on the fifth, before the body', async () => {
    await errorOf(() => new MessageDecoder().push(Uint8Array.of(0)), 'UnknownMessageTypeError')
    const decoder = new MessageDecoder()
    assert.equal(decoder.push(Uint8Array.of(2, 0xff, 0xff, 0xff)), undefined)
    await errorOf(() => decoder.push(Uint8Array.of(0xff)), 'TooLargeError')
  })

  it('refuses bytes after the message, in the same chunk or a later one', async () => {
    const hello = encodeMessage({ type: 'hello', certificates: [], revocations: [] })
    await errorOf(() => new MessageDecoder().push(Uint8Array.of(...hello, 1)), 'TrailingBytesError')
    const decoder = new MessageDecoder()
    assert.ok(decoder.push(hello) !== undefined)
    await errorOf(() => decoder.push(Uint8Array.of(0)), 'TrailingBytesError')
  })

  it('refuses a stream that ends before or inside a message', async () => {
    await errorOf(() => new MessageDecoder().end(), 'TruncatedError')
    const decoder = new MessageDecoder()
    decoder.push(Uint8Array.of(1, 0, 0))
    await errorOf(() => decoder.end(), 'TruncatedError')
  })

  it('encoding refuses more than 16 certificates', async () => {
    const { network } = await keys()
    const certificate = await signCertificate(await certificateExample(), network)
    await errorOf(() => encodeMessage({ type: 'hello', certificates: Array(17).fill(certificate), revocations: [] }), 'TooLargeError')
  })
})

describe('DHT key', () => {
  it('is the prefix and the lower-case hex of the network key', async () => {
    const { network } = await keys()
    assert.equal(`${REVOCATIONS_DHT_PREFIX}${toString(network.publicKey.raw, 'base16')}`,
      '/agentmesh-revocations/8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c')
  })
})
