import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { toString } from 'uint8arrays/to-string'
import {
  decodeCertificate, decodeRevocationList, decodeToken, encodeMessage, encodeToken, isRevoked, MembershipError, MessageDecoder,
  signCertificate, signRevocationList, TOKEN_PREFIX, TooLargeError, verifyCertificate, verifyRevocationList
} from '../../protocols/membership/index.ts'
import type { Certificate, MembershipMessage } from '../../protocols/membership/index.ts'
import { certificateFields, revocationEntries } from './arbitraries.ts'
import { plainCertificate, plainList, plainMessage } from './helpers.ts'
import { certificateExample, keys, revocationListExample, specErrorNames, tokenAddresses } from './vectors.ts'

const all = await keys()
const errorNames = specErrorNames()

// signing is the slow part: these counts keep the folder within a few seconds
const asyncRuns = 500
const numRuns = 5000

/** What a decode gives: the value's plain form, or the name of a SPEC error (anything else fails the test). */
function outcome (decode: () => unknown): unknown {
  try {
    return { value: decode() }
  } catch (err) {
    assert.ok(err instanceof MembershipError, `not a MembershipError: ${String(err)}`)
    assert.ok(errorNames.has(err.name), `not an error of SPEC.md: ${err.name}`)
    assert.doesNotMatch(err.message, /\n/)
    return err.name
  }
}

async function signOrSkip (fields: Parameters<typeof signCertificate>[0]): Promise<Certificate | undefined> {
  try {
    return await signCertificate(fields, all.network)
  } catch (err) {
    if (err instanceof TooLargeError) return undefined
    throw err
  }
}

const certificate = await signCertificate(await certificateExample(), all.network)
const list = await signRevocationList(await revocationListExample(), all.network)
const token = encodeToken({ certificate, addresses: await tokenAddresses() })
const messages: MembershipMessage[] = [
  { type: 'hello', certificates: [certificate], revocations: [list] },
  { type: 'revocations', lists: [list] },
  { type: 'certificate', certificate }
]

/** Valid bytes with a few bytes overwritten, cut short or extended. */
function mutated (valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.array(fc.tuple(fc.nat(), fc.nat({ max: 0xff })), { maxLength: 4 }), fc.nat({ max: valid.length + 4 }))
    .map(([writes, length]) => {
      const bytes = new Uint8Array(length)
      bytes.set(valid.subarray(0, length))
      for (const [index, value] of writes) if (bytes.length > 0) bytes[index % bytes.length] = value
      return bytes
    })
}

function decodeMessage (bytes: Uint8Array, chunkSize: number): MembershipMessage | undefined {
  const decoder = new MessageDecoder()
  let message: MembershipMessage | undefined
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    message = decoder.push(bytes.subarray(offset, offset + chunkSize)) ?? message
  }
  decoder.end()
  return message
}

describe('membership properties', () => {
  it('round trip: any valid certificate fields sign, decode to the same fields and verify', async () => {
    await fc.assert(fc.asyncProperty(certificateFields(all), async (fields) => {
      const cert = await signOrSkip(fields)
      fc.pre(cert !== undefined)
      const decoded = decodeCertificate(cert.bytes)
      assert.deepEqual(plainCertificate(decoded), plainCertificate({ ...fields, signature: cert.signature, bytes: cert.bytes }))
      await verifyCertificate(decoded, { now: fields.notBefore, networkKey: fields.networkKey, peer: fields.peerId })
    }), { numRuns: asyncRuns })
  })

  it('round trip: any valid revocation list signs sorted, decodes and verifies; isRevoked finds each entry', async () => {
    await fc.assert(fc.asyncProperty(revocationEntries(all), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), async (entries, version) => {
      const signed = await signRevocationList({ networkKey: all.network.publicKey.raw, version, entries }, all.network)
      const decoded = decodeRevocationList(signed.bytes)
      assert.deepEqual(plainList(decoded), plainList(signed))
      assert.equal(decoded.entries.length, entries.length)
      await verifyRevocationList(decoded, all.network.publicKey.raw)
      for (const { peerId, serial } of entries) assert.ok(isRevoked(decoded, peerId, serial === 0n ? 42n : serial))
    }), { numRuns: asyncRuns })
  })

  it('round trip: a token of any valid certificate and addresses', async () => {
    const addresses = await tokenAddresses()
    await fc.assert(fc.asyncProperty(certificateFields(all), fc.subarray(addresses), async (fields, chosen) => {
      const cert = await signOrSkip(fields)
      fc.pre(cert !== undefined)
      const invite = decodeToken(encodeToken({ certificate: cert, addresses: chosen }))
      assert.deepEqual(invite.addresses, chosen)
      assert.deepEqual(invite.certificate.bytes, cert.bytes)
    }), { numRuns: asyncRuns })
  })

  it('arbitrary or mutated bytes give a certificate or a SPEC error, never another exception', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 1100 }), mutated(certificate.bytes)), (bytes) => {
      outcome(() => decodeCertificate(bytes))
    }), { numRuns })
  })

  it('arbitrary or mutated bytes give a revocation list or a SPEC error', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated(list.bytes)), (bytes) => {
      outcome(() => decodeRevocationList(bytes))
    }), { numRuns })
  })

  it('arbitrary or mutated text gives an invite or a SPEC error', () => {
    const payload = token.slice(TOKEN_PREFIX.length)
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 400 }).map((bytes) => TOKEN_PREFIX + toString(bytes, 'base64url')),
      fc.tuple(fc.nat({ max: payload.length + 4 }), fc.nat(), fc.constantFrom(...'Aa0_-+=/ \n'.split(''))).map(([length, at, char]) => {
        const cut = payload.slice(0, length)
        const index = cut.length === 0 ? 0 : at % cut.length
        return TOKEN_PREFIX + cut.slice(0, index) + char + cut.slice(index + 1)
      }),
      mutated(Uint8Array.from(Buffer.from(payload, 'base64url'))).map((bytes) => TOKEN_PREFIX + toString(bytes, 'base64url'))
    )
    fc.assert(fc.property(text, (input) => {
      outcome(() => decodeToken(input))
    }), { numRuns })
  })

  it('the message decoder gives the same result fed whole, byte by byte or in chunks: a message or a SPEC error', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.constantFrom(...messages).chain((message) => mutated(encodeMessage(message)))
    )
    fc.assert(fc.property(input, fc.integer({ min: 1, max: 64 }), (bytes, chunkSize) => {
      const plain = (result: unknown): unknown => {
        const value = (result as { value?: MembershipMessage }).value
        return value === undefined ? result : plainMessage(value)
      }
      const whole = plain(outcome(() => decodeMessage(bytes, Math.max(bytes.length, 1))))
      assert.deepEqual(plain(outcome(() => decodeMessage(bytes, 1))), whole)
      assert.deepEqual(plain(outcome(() => decodeMessage(bytes, chunkSize))), whole)
    }), { numRuns: 500 })
  })

  it('a valid message cut short anywhere waits for more, then is a TruncatedError at the end of the stream', () => {
    for (const message of messages) {
      const bytes = encodeMessage(message)
      for (let length = 0; length < bytes.length; length += 7) {
        const decoder = new MessageDecoder()
        assert.equal(decoder.push(bytes.subarray(0, length)), undefined)
        assert.throws(() => decoder.end(), { name: 'TruncatedError' })
      }
    }
  })
})
