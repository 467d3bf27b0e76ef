import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { decodeRevocationList, verifyRevocationList } from '../../protocols/membership/index.ts'
import { decodeMemberRecord, memberRecordKey, MembershipError, validateMemberRecord, verifyMemberRecord } from '../../protocols/records/index.ts'
import { corpusIntegrityTests, parseHexDump, readCorpusFile } from '../helpers/spec-corpus.ts'
import { buildFixtures, FIXTURE_DIRECTORY } from './generate-fixtures.ts'
import { keys, specErrorNames } from './vectors.ts'
import type { Fixture, Manifest } from './generate-fixtures.ts'

const manifest: Manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURE_DIRECTORY), 'utf8'))

function read (file: string): string {
  return readCorpusFile(FIXTURE_DIRECTORY, file)
}

/** Decodes the fixture, then verifies it as a reader or validates it as a DHT server when the manifest says so. */
async function check (fixture: Fixture): Promise<void> {
  const all = await keys()
  const bytes = parseHexDump(read(fixture.file))
  if (fixture.kind === 'revocation-list') {
    await verifyRevocationList(decodeRevocationList(bytes), all.network.publicKey.raw)
    return
  }
  if (fixture.check === 'validate') {
    const { now, key } = fixture.validate!
    await validateMemberRecord(memberRecordKey(all[key.networkKey].publicKey.raw, key.name), bytes, { now })
    return
  }
  const record = decodeMemberRecord(bytes)
  if (fixture.check === 'verify') {
    const { now, networkKey, name, revocations } = fixture.verify!
    await verifyMemberRecord(record, {
      now,
      networkKey: all[networkKey].publicKey.raw,
      ...(name === undefined ? {} : { name }),
      ...(revocations === undefined ? {} : { revocations: decodeRevocationList(parseHexDump(read(revocations))) })
    })
  }
}

describe('hostile input corpus (test/fixtures/records/)', () => {
  corpusIntegrityTests(FIXTURE_DIRECTORY, manifest, buildFixtures, specErrorNames())

  it('covers every case the brief names', () => {
    const errors = new Set(manifest.fixtures.map(({ error }) => error))
    for (const name of ['BadSignatureError', 'WrongNetworkError', 'ExpiredRecordError', 'ExpiredCertificateError', 'RevokedError', 'TooLargeError',
      'KeyMismatchError', 'NameMismatchError', 'TruncatedError', 'TrailingBytesError', 'MalformedFieldError', 'TtlTooLongError']) {
      assert.ok(errors.has(name), name)
    }
  })

  for (const fixture of manifest.fixtures) {
    it(`${fixture.file}: ${fixture.check} ${fixture.error ?? 'passes'}`, async () => {
      if (fixture.error === null) {
        await check(fixture)
        return
      }
      await assert.rejects(check(fixture), (err: Error) => {
        assert.ok(err instanceof MembershipError, `${fixture.file}: not a MembershipError: ${String(err)}`)
        assert.equal(err.name, fixture.error, err.message)
        assert.doesNotMatch(err.message, /\n/)
        return true
      })
    })
  }
})
