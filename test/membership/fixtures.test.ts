import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import {
  decodeCertificate, decodeRevocationList, decodeToken, MembershipError, MessageDecoder, verifyCertificate,
  verifyRevocationList
} from '../../protocols/membership/index.ts'
import { buildFixtures, FIXTURE_DIRECTORY, manifestText } from './generate-fixtures.ts'
import { keys, parseHexDump, specErrorNames } from './vectors.ts'
import type { Fixture, Manifest } from './generate-fixtures.ts'

const manifest: Manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURE_DIRECTORY), 'utf8'))

function read (file: string): string {
  return readFileSync(new URL(file, FIXTURE_DIRECTORY), 'utf8')
}

/** Feeds a message in chunks of `chunkSize`, then ends the stream. */
function decodeMessage (bytes: Uint8Array, chunkSize: number): void {
  const decoder = new MessageDecoder()
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    decoder.push(bytes.subarray(offset, offset + chunkSize))
  }
  decoder.end()
}

/** Decodes the fixture as its kind says, and verifies it when the manifest says so. */
async function check (fixture: Fixture, chunkSize: number): Promise<void> {
  const text = read(fixture.file)
  if (fixture.kind === 'token') {
    decodeToken(text)
    return
  }
  const bytes = parseHexDump(text)
  if (fixture.kind === 'message') {
    decodeMessage(bytes, chunkSize)
    return
  }
  const all = await keys()
  if (fixture.kind === 'revocation-list') {
    const list = decodeRevocationList(bytes)
    if (fixture.verify !== undefined) await verifyRevocationList(list, all[fixture.verify.networkKey].publicKey.raw)
    return
  }
  const certificate = decodeCertificate(bytes)
  if (fixture.verify !== undefined) {
    const { now = 0, networkKey, peer, revocations } = fixture.verify
    await verifyCertificate(certificate, {
      now,
      networkKey: all[networkKey].publicKey.raw,
      ...(peer === undefined ? {} : { peer: all[peer] }),
      ...(revocations === undefined ? {} : { revocations: decodeRevocationList(parseHexDump(read(revocations))) })
    })
  }
}

describe('hostile input corpus (test/fixtures/membership/)', () => {
  it('lists every fixture file, and only existing ones', () => {
    const files = readdirSync(FIXTURE_DIRECTORY).filter((file) => file !== 'manifest.json').sort()
    assert.deepEqual(manifest.fixtures.map(({ file }) => file).sort(), files)
  })

  it('is exactly what the generator builds from the fixed seeds', async () => {
    const { manifest: built, files } = await buildFixtures()
    assert.equal(manifestText(built), read('manifest.json'))
    for (const [file, content] of files) assert.equal(content, read(file), file)
  })

  it('expects only errors that SPEC.md lists', () => {
    const names = specErrorNames()
    for (const { file, error } of manifest.fixtures) {
      if (error !== null) assert.ok(names.has(error), `${file}: ${error}`)
    }
  })

  for (const fixture of manifest.fixtures) {
    it(`${fixture.file}: ${fixture.error ?? 'valid'}`, async () => {
      // messages also go one byte at a time: the same error either way
      for (const chunkSize of fixture.kind === 'message' ? [Infinity, 1] : [Infinity]) {
        if (fixture.error === null) {
          await check(fixture, chunkSize)
          continue
        }
        await assert.rejects(check(fixture, chunkSize), (err: Error) => {
          assert.ok(err instanceof MembershipError, `${fixture.file}: not a MembershipError: ${String(err)}`)
          assert.equal(err.name, fixture.error, err.message)
          assert.doesNotMatch(err.message, /\n/)
          return true
        })
      }
    })
  }
})
