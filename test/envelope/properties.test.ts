import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  encodeRequest, encodeResponse, EnvelopeError, requestDecoder, responseDecoder
} from '../../protocols/envelope/index.ts'
import type { EnvelopeDecoder } from '../../protocols/envelope/index.ts'
import { requestInit, responseInit, skippableOption, withExtraOptions } from './arbitraries.ts'
import { concatBytes, feed, specViolations, splitAt } from './helpers.ts'

// issue 3: at least 10,000 runs of each property
const numRuns = 10_000

const cuts = fc.array(fc.nat({ max: 400 }), { maxLength: 6 })
const payload = fc.uint8Array({ maxLength: 64 })
const extras = fc.tuple(fc.array(skippableOption, { maxLength: 3 }), fc.array(fc.nat({ max: 8 }), { maxLength: 3 }))

/** A valid request or response, its bytes and the decoder for it. */
const validEnvelope = fc.oneof(
  requestInit.map((init) => ({ bytes: encodeRequest(init), decoder: (): EnvelopeDecoder<unknown> => requestDecoder() })),
  responseInit.map((init) => ({ bytes: encodeResponse(init), decoder: (): EnvelopeDecoder<unknown> => responseDecoder() }))
)

describe('envelope properties', () => {
  it('round trip: any valid request, with skippable options and payload, in any chunks', () => {
    fc.assert(fc.property(requestInit, extras, payload, cuts, (init, [extra, positions], data, offsets) => {
      const bytes = withExtraOptions(encodeRequest(init), extra, positions)
      fc.pre(bytes !== undefined)
      const { envelope, after } = feed(requestDecoder(), splitAt(concatBytes(bytes, data), offsets))
      assert.deepEqual(envelope, { ...init, skippedOptions: extra })
      assert.deepEqual(after, data)
    }), { numRuns })
  })

  it('round trip: any valid response, with skippable options and payload, in any chunks', () => {
    fc.assert(fc.property(responseInit, extras, payload, cuts, (init, [extra, positions], data, offsets) => {
      const bytes = withExtraOptions(encodeResponse(init), extra, positions)
      fc.pre(bytes !== undefined)
      const { envelope, after } = feed(responseDecoder(), splitAt(concatBytes(bytes, data), offsets))
      assert.deepEqual(envelope, { ...init, reason: init.reason ?? '', skippedOptions: extra })
      assert.deepEqual(after, data)
    }), { numRuns })
  })

  it('arbitrary bytes give an envelope, "need more" or a typed error, the same whatever the chunks', () => {
    const errorNames = new Set(specViolations().keys())
    // random bytes for either decoder, or a valid envelope with a few bytes overwritten for its own
    const input = fc.oneof(
      fc.record({ bytes: fc.uint8Array({ maxLength: 300 }), decoder: fc.constantFrom(requestDecoder, responseDecoder) }),
      fc.tuple(validEnvelope, payload, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 0xff })), { minLength: 1, maxLength: 4 }))
        .map(([{ bytes, decoder }, data, writes]) => {
          const mutated = concatBytes(bytes, data)
          for (const [index, value] of writes) mutated[index % mutated.length] = value
          return { bytes: mutated, decoder }
        })
    )
    const outcome = (decoder: EnvelopeDecoder<unknown>, chunks: Uint8Array[]): unknown => {
      try {
        const result = feed(decoder, chunks)
        if (result.envelope === undefined) decoder.end()
        return result
      } catch (err) {
        assert.ok(err instanceof EnvelopeError, `not an EnvelopeError: ${String(err)}`)
        assert.ok(errorNames.has(err.name), `not an error of SPEC.md: ${err.name}`)
        return err.name
      }
    }
    fc.assert(fc.property(input, cuts, ({ bytes, decoder }, offsets) => {
      assert.deepEqual(outcome(decoder(), splitAt(bytes, offsets)), outcome(decoder(), [bytes]))
    }), { numRuns })
  })

  it('a valid envelope cut short at any offset is "need more", and a truncation at end of stream', () => {
    fc.assert(fc.property(validEnvelope, fc.nat(), ({ bytes, decoder }, endAt) => {
      for (let length = 0; length < bytes.length; length++) {
        assert.equal(decoder().push(bytes.subarray(0, length)).done, false, `cut at ${length}`)
      }
      // ending the stream there: one offset per run, as building errors is slow
      const d = decoder()
      d.push(bytes.subarray(0, 1 + endAt % (bytes.length - 1)))
      assert.throws(() => d.end(), { name: 'TruncatedEnvelopeError' })
    }), { numRuns })
  })
})
