import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import {
  decodeCertificate, decodeRevocationList, decodeToken, MembershipError, MessageDecoder, verifyCertificate,
  verifyRevocationList
} from '../../protocols/membership/index.ts'
import { corpusIntegrityTests, parseHexDump, readCorpusFile } from '../helpers/spec-corpus.ts'
import { buildFixtures, FIXTURE_DIRECTORY } from './generate-fixtures.ts'
import { keys, specErrorNames } from './vectors.ts'
import type { Fixture, Manifest } from './generate-fixtures.ts'

const manifest: Manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURE_DIRECTORY), 'utf8'))

function read (file: string): string {
  return readCorpusFile(FIXTURE_DIRECTORY, file)
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
  corpusIntegrityTests(FIXTURE_DIRECTORY, manifest, buildFixtures, specErrorNames())

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
