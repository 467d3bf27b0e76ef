import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  decodeMemberRecord, MAX_PUBLISHED_SERVICES, MAX_RECORD_TTL_SECONDS, memberRecordKey, MembershipError, PROTO_CODES,
  SERVICE_NAME_PATTERN, selectMemberRecord, signMemberRecord, TooLargeError, validateMemberRecord, verifyMemberRecord
} from '../../protocols/records/index.ts'
import type { MemberRecordFields, PublishedService, ServiceProto } from '../../protocols/records/index.ts'
import { bobCertificate, keys, NOT_AFTER, NOT_BEFORE, NOW, peerKeys, plainRecord, recordExample, specErrorNames } from './vectors.ts'

const all = await keys()
const { bob } = await peerKeys()
const errorNames = specErrorNames()
const networkKey = all.network.publicKey.raw
const key = memberRecordKey(networkKey, 'bob')
const certificate = await bobCertificate()
const record = await signMemberRecord(await recordExample(), bob)

// signing is the slow part: these counts keep the folder within a few seconds
const asyncRuns = 500
const numRuns = 10000

/** The name of a SPEC error (anything else fails the test), or undefined when `run` passes. */
function errorName (err: unknown): string {
  assert.ok(err instanceof MembershipError, `not a MembershipError: ${String(err)}`)
  assert.ok(errorNames.has(err.name), `not an error of SPEC.md: ${err.name}`)
  assert.doesNotMatch(err.message, /\n/)
  return err.name
}

function outcome (run: () => unknown): unknown {
  try {
    return { value: run() }
  } catch (err) {
    return errorName(err)
  }
}

async function asyncOutcome (run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { value: await run() }
  } catch (err) {
    return errorName(err)
  }
}

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

const plain = { noNullPrototype: true } as const
const service: fc.Arbitrary<PublishedService> = fc.record({
  name: fc.stringMatching(SERVICE_NAME_PATTERN),
  proto: fc.constantFrom(...Object.keys(PROTO_CODES) as ServiceProto[]),
  port: fc.integer({ min: 1, max: 0xffff })
}, plain)
const address = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 0xffff })).map(([a, b, port]) => `/ip4/10.${a}.${b}.1/tcp/${port}`),
  fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/), fc.integer({ min: 1, max: 0xffff })).map(([host, port]) => `/dns4/${host}.example/udp/${port}/quic-v1`),
  fc.integer({ min: 1, max: 0xffff }).map((port) => `/ip6/2001:db8::1/tcp/${port}/p2p/${all.bob}`),
  fc.integer({ min: 1, max: 0xffff }).map((port) => `/ip4/192.0.2.10/tcp/${port}/p2p/${all.alice}/p2p-circuit`)
)

/** Valid fields of bob's record; some exceed 4096 bytes, which signing refuses (TooLargeError). */
const fields: fc.Arbitrary<MemberRecordFields> = fc.record({
  sequence: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  expiresAt: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  services: fc.uniqueArray(service, { maxLength: MAX_PUBLISHED_SERVICES, selector: ({ name }) => name }),
  addresses: fc.uniqueArray(address, { maxLength: 8 })
}, plain).map((values) => ({ ...values, certificate }))

describe('member record properties', () => {
  it('round trip: any valid fields sign, decode to the same fields with services sorted, and verify just before expiry', async () => {
    await fc.assert(fc.asyncProperty(fields, async (values) => {
      let signed
      try {
        signed = await signMemberRecord(values, bob)
      } catch (err) {
        if (err instanceof TooLargeError) return
        throw err
      }
      const decoded = decodeMemberRecord(signed.bytes)
      assert.deepEqual(plainRecord(decoded), plainRecord(signed))
      assert.equal(decoded.sequence, values.sequence)
      assert.equal(decoded.expiresAt, values.expiresAt)
      assert.deepEqual(new Set(decoded.services.map((s) => JSON.stringify(s))), new Set(values.services.map((s) => JSON.stringify(s))))
      const names = decoded.services.map(({ name }) => Buffer.from(name))
      for (let i = 1; i < names.length; i++) assert.ok(Buffer.compare(names[i - 1], names[i]) < 0)
      assert.equal(decoded.addresses.length, values.addresses.length)
      const now = Math.max(values.expiresAt - 1, 0)
      const checked = await asyncOutcome(async () => verifyMemberRecord(decoded, { now, networkKey, name: 'bob' }))
      if (now >= NOT_BEFORE - 300 && now < NOT_AFTER && values.expiresAt > 0) assert.deepEqual(checked, { value: undefined })
    }), { numRuns: asyncRuns })
  })

  it('arbitrary or mutated bytes give a record or a SPEC error from decodeMemberRecord, never another exception', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated(record.bytes)), (bytes) => {
      outcome(() => decodeMemberRecord(bytes))
    }), { numRuns })
  })

  it('arbitrary or mutated bytes under the right or an arbitrary key give only SPEC errors from validateMemberRecord and verifyMemberRecord', async () => {
    const keyArbitrary = fc.oneof(fc.constant(key), fc.uint8Array({ maxLength: 100 }))
    const now = fc.oneof(fc.constant(NOW), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }))
    await fc.assert(fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated(record.bytes)), keyArbitrary, now, async (bytes, dhtKey, at) => {
      const validated = await asyncOutcome(async () => validateMemberRecord(dhtKey, bytes, { now: at }))
      const decoded = outcome(() => decodeMemberRecord(bytes)) as { value?: ReturnType<typeof decodeMemberRecord> }
      if (decoded.value !== undefined) {
        await asyncOutcome(async () => verifyMemberRecord(decoded.value!, { now: at, networkKey, name: 'bob' }))
      }
      // only the untouched record, under its key, at a time it is valid, passes
      if (validated !== undefined && typeof validated !== 'string') {
        assert.deepEqual(bytes, record.bytes)
        assert.ok(at < record.expiresAt && record.expiresAt - at <= MAX_RECORD_TTL_SECONDS)
      }
    }), { numRuns: asyncRuns * 6 })
  })

  it('the selector never throws and returns an index of the list', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated(record.bytes), fc.constant(record.bytes)), { maxLength: 8 }), (records) => {
      const index = selectMemberRecord(key, records)
      assert.ok(Number.isInteger(index) && index >= 0 && (records.length === 0 ? index === 0 : index < records.length))
      if (records.some((bytes) => outcome(() => decodeMemberRecord(bytes)) instanceof Object)) {
        assert.ok(typeof outcome(() => decodeMemberRecord(records[index])) === 'object')
      }
    }), { numRuns: 1000 })
  })
})
