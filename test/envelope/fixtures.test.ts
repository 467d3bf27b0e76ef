import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import {
  EnvelopeError, requestDecoder, responseDecoder, Status, UnsupportedCriticalOptionError
} from '../../protocols/envelope/index.ts'
import { parseHexDump, specViolations } from './helpers.ts'

/** One hostile input of test/fixtures/envelope/ and what the decoder must say about it. */
interface Fixture {
  file: string
  decoder: 'request' | 'response'
  error: string
  status: keyof typeof Status
  /** For UnsupportedCriticalOptionError: the option it must name, as hex strings. */
  option?: { optionClass: string, type: string }
}

const directory = new URL('../fixtures/envelope/', import.meta.url)
const manifest: Fixture[] = JSON.parse(readFileSync(new URL('manifest.json', directory), 'utf8'))

/** Feeds the bytes in chunks of `chunkSize`, then ends the stream; returns what was thrown. */
function decodeError (fixture: Fixture, bytes: Uint8Array, chunkSize: number): unknown {
  const decoder = fixture.decoder === 'request' ? requestDecoder() : responseDecoder()
  try {
    for (let offset = 0; offset < bytes.length; offset += chunkSize) {
      const result = decoder.push(bytes.subarray(offset, offset + chunkSize))
      assert.equal(result.done, false, 'decoded an envelope from a hostile input')
    }
    decoder.end()
  } catch (err) {
    return err
  }
  assert.fail('no error')
}

describe('hostile input corpus (test/fixtures/envelope/)', () => {
  it('lists every fixture file, and only existing ones', () => {
    const files = readdirSync(directory).filter((file) => file.endsWith('.hex')).sort()
    assert.deepEqual(manifest.map(({ file }) => file).sort(), files)
  })

  it('covers every decoding violation of SPEC.md', () => {
    // HeaderTimeoutError is raised by the tunnel handler's timer, not by bytes
    const decodingErrors = [...specViolations().keys()].filter((name) => name !== 'HeaderTimeoutError')
    assert.deepEqual([...new Set(manifest.map(({ error }) => error))].sort(), decodingErrors.sort())
  })

  for (const fixture of manifest) {
    it(`${fixture.file}: ${fixture.error}`, () => {
      const bytes = parseHexDump(readFileSync(new URL(fixture.file, directory), 'utf8'))
      for (const chunkSize of [bytes.length || 1, 1, 3]) {
        const err = decodeError(fixture, bytes, chunkSize)
        assert.ok(err instanceof EnvelopeError, `chunks of ${chunkSize}: ${String(err)}`)
        assert.equal(err.name, fixture.error, `chunks of ${chunkSize}: ${err.message}`)
        assert.equal(err.status, Status[fixture.status])
        if (fixture.option !== undefined) {
          assert.ok(err instanceof UnsupportedCriticalOptionError)
          assert.deepEqual(err.option, {
            optionClass: Number(fixture.option.optionClass),
            type: Number(fixture.option.type)
          })
        }
      }
    })
  }
})
