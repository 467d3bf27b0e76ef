import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  encodeRequest, encodeResponse, MAX_ENVELOPE_BYTES, requestDecoder, responseDecoder
} from '../../protocols/envelope/index.ts'
import type { EnvelopeDecoder } from '../../protocols/envelope/index.ts'
import {
  concatBytes, feed, REQUEST_EXAMPLE, RESPONSE_OK_EXAMPLE, RESPONSE_UNSUPPORTED_EXAMPLE, specExample, specExamples, splitAt
} from './helpers.ts'


const cases = [
  {
    name: 'request',
    bytes: specExample('request'),
    expected: REQUEST_EXAMPLE,
    encode: () => encodeRequest(REQUEST_EXAMPLE),
    decoder: (): EnvelopeDecoder<unknown> => requestDecoder()
  },
  {
    name: 'response-ok',
    bytes: specExample('response-ok'),
    expected: RESPONSE_OK_EXAMPLE,
    encode: () => encodeResponse(RESPONSE_OK_EXAMPLE),
    decoder: (): EnvelopeDecoder<unknown> => responseDecoder()
  },
  {
    name: 'response-unsupported-critical-option',
    bytes: specExample('response-unsupported-critical-option'),
    expected: RESPONSE_UNSUPPORTED_EXAMPLE,
    encode: () => encodeResponse(RESPONSE_UNSUPPORTED_EXAMPLE),
    decoder: (): EnvelopeDecoder<unknown> => responseDecoder()
  }
]

describe('SPEC.md worked examples', () => {
  it('lists exactly the examples the tests know', () => {
    assert.deepEqual([...specExamples().keys()].sort(), cases.map(({ name }) => name).sort())
  })

  for (const { name, bytes, expected, encode, decoder } of cases) {
    describe(name, () => {
      it('encodes to the SPEC bytes', () => {
        assert.deepEqual(encode(), bytes)
      })

      it('decodes from the SPEC bytes in one chunk', () => {
        const result = decoder().push(bytes)
        assert.ok(result.done)
        assert.deepEqual(result.envelope, expected)
        assert.equal(result.rest.byteLength, 0)
      })

      it('decodes at every split into two chunks, empty chunks included', () => {
        for (let cut = 0; cut <= bytes.length; cut++) {
          const { envelope, after } = feed(decoder(), splitAt(bytes, [cut]))
          assert.deepEqual(envelope, expected, `split at ${cut}`)
          assert.equal(after.length, 0)
        }
      })

      it('decodes one byte at a time, asking for more until the last', () => {
        const d = decoder()
        for (const [index, byte] of bytes.entries()) {
          const result = d.push(Uint8Array.of(byte))
          assert.equal(result.done, index === bytes.length - 1, `byte ${index}`)
          if (result.done) assert.deepEqual(result.envelope, expected)
        }
      })

      it('returns the payload that came in the same chunk, exactly and uncopied', () => {
        const payload = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff)
        const chunk = concatBytes(bytes, payload)
        const result = decoder().push(chunk)
        assert.ok(result.done)
        assert.deepEqual(result.envelope, expected)
        assert.deepEqual(result.rest.subarray(), payload)
        // the rest is a view of the chunk the caller gave, not a copy
        const [restChunk] = result.rest
        assert.equal(restChunk.buffer, chunk.buffer)
      })

      it('accepts Uint8ArrayList chunks and keeps later chunks of payload', () => {
        const payload = new TextEncoder().encode('SSH-2.0-OpenSSH_9.2\r\n')
        const list = new Uint8ArrayList(bytes.subarray(0, 5), bytes.subarray(5), payload.subarray(0, 3))
        const { envelope, after } = feed(decoder(), [list.sublist(0, 2), list.sublist(2), payload.subarray(3)])
        assert.deepEqual(envelope, expected)
        assert.deepEqual(after, payload)
      })

      it('starts afresh after an envelope: two envelopes in one chunk', () => {
        const d = decoder()
        const first = d.push(concatBytes(bytes, bytes))
        assert.ok(first.done)
        const second = d.push(first.rest)
        assert.ok(second.done)
        assert.deepEqual(second.envelope, expected)
        assert.equal(second.rest.byteLength, 0)
      })

      it('fits the envelope size limit', () => {
        assert.ok(bytes.length <= MAX_ENVELOPE_BYTES)
      })
    })
  }
})
