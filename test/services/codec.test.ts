/**
 * The services query and answer (protocols/services/SPEC.md section 3): byte layouts,
 * round trips, and typed errors for what a hostile peer could send.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodeAnswer, decodeQuery, encodeAnswer, encodeQuery } from '../../protocols/services/index.ts'
import { MembershipError } from '../../protocols/membership/index.ts'

describe('services query and answer', () => {
  it('encodes a query as its version and a 24-bit VNI', () => {
    assert.deepEqual([...encodeQuery({ vni: 0x123456 })], [1, 0x12, 0x34, 0x56])
    assert.deepEqual([...encodeQuery({ vni: 0 })], [1, 0, 0, 0])
    assert.deepEqual(decodeQuery(Uint8Array.of(1, 0x12, 0x34, 0x56)), { vni: 0x123456 })
  })

  it('encodes an answer as the record after its length, then the services sorted by name', () => {
    const bytes = encodeAnswer({ record: Uint8Array.of(9, 9), usable: [{ name: 'web', proto: 'http', port: 8080 }, { name: 'ssh', proto: 'ssh', port: 22 }] })
    assert.equal(Buffer.from(bytes).toString('hex'), [
      '01', '0002', '0909', '02',
      '03', Buffer.from('ssh').toString('hex'), '03', '0016',
      '03', Buffer.from('web').toString('hex'), '01', '1f90'
    ].join(''))
    assert.deepEqual(decodeAnswer(bytes), { record: Uint8Array.of(9, 9), usable: [{ name: 'ssh', proto: 'ssh', port: 22 }, { name: 'web', proto: 'http', port: 8080 }] })
  })

  it('refuses other versions, trailing bytes, truncation and duplicate services with named errors', () => {
    const cases: Array<[Uint8Array, string]> = [
      [Uint8Array.of(2, 0, 0, 1), 'UnsupportedVersionError'],
      [Uint8Array.of(1, 0, 0, 1, 0), 'TrailingBytesError'],
      [Uint8Array.of(1, 0, 0), 'TruncatedError']
    ]
    for (const [bytes, name] of cases) assert.throws(() => decodeQuery(bytes), { name })
    const twice = Uint8Array.of(1, 0, 0, 2, 1, 0x61, 0, 0, 1, 1, 0x61, 0, 0, 2)
    assert.throws(() => decodeAnswer(twice), { name: 'MalformedFieldError' })
    assert.throws(() => decodeAnswer(Uint8Array.of(1, 0x20, 0x01)), { name: 'TooLargeError' }, 'a record length over 4096 is refused before it is read')
  })

  it('gives only membership errors for arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), bytes => {
      for (const decode of [decodeQuery, decodeAnswer]) {
        try {
          decode(bytes)
        } catch (err) {
          assert.ok(err instanceof MembershipError, `${(err as Error).name}: ${(err as Error).message}`)
        }
      }
    }), { numRuns: 2_000 })
  })
})
