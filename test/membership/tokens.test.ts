/**
 * Bad tokens and bad membership commands, from the CLI: each is refused with exit 1
 * and ONE line on stderr saying what is wrong, and nothing changes (`network ls`
 * stays as it was). The codec-level hostile corpus is test/membership/fixtures.test.ts;
 * this is what a user sees.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { TestDaemon } from '../helpers/daemon.ts'
import { invite, networksOf, oneLine, run } from '../helpers/membership.ts'
import { agentmesh } from '../helpers/services/mesh.ts'
import type { CliResult } from '../helpers/daemon.ts'

const EXPIRING_TTL_SECONDS = 2

/** A token with one byte of its certificate's signature flipped (the payload re-encoded canonically). */
function tamper (token: string): string {
  const payload = Buffer.from(token.slice('amtok1_'.length), 'base64url')
  const certificateLength = payload.readUInt16BE(1)
  const lastSignatureByte = 1 + 2 + certificateLength - 1
  payload[lastSignatureByte - 10] = (payload[lastSignatureByte - 10] as number) ^ 0x01
  return `amtok1_${payload.toString('base64url')}`
}

describe('bad tokens and bad membership commands, from the CLI', () => {
  let admin: TestDaemon, admin2: TestDaemon, bob: TestDaemon
  const ids: Record<string, string> = {}

  before(async () => {
    admin = await TestDaemon.start()
    const adminAddresses = (await admin.id()).addresses
    ;[admin2, bob] = await Promise.all([TestDaemon.start({ bootstrap: adminAddresses }), TestDaemon.start({ bootstrap: adminAddresses })])
    for (const [name, daemon] of Object.entries({ admin, admin2, bob })) ids[name] = (await daemon.id()).peerId
    await agentmesh(admin, ['network', 'init', 'fleet'])
  })

  after(async () => {
    await Promise.all([admin, admin2, bob].map(async daemon => daemon?.destroy()))
  })

  /** exit 1, one line on stderr that matches `reason`, nothing on stdout */
  function refused (result: CliResult, reason: RegExp, what: string): string {
    assert.equal(result.code, 1, `${what}: exit 1 (stderr: ${result.stderr.trim()})`)
    const line = oneLine(result)
    assert.match(line, reason, `${what}: says what is wrong`)
    assert.equal(result.stdout, '', `${what}: nothing on stdout`)
    return line
  }

  it('join refuses truncated, tampered, replayed, expired, garbage and empty tokens, changing nothing; the right token still works', async t => {
    // the expiring invitation first: a later one for bob revokes its serial anyway
    const expiring = await invite(admin, ids.bob, 'bob', ['--ttl', `${EXPIRING_TTL_SECONDS}s`])
    const expiresAt = Date.now() + EXPIRING_TTL_SECONDS * 1000
    const forAdmin2 = await invite(admin, ids.admin2, 'other')

    const cases: Array<[string, string, RegExp]> = [
      ['truncated', expiring.slice(0, expiring.length - 30), /token/i],
      ['a byte of the signature tampered', tamper(expiring), /signature/i],
      ['invited for another peer id (replayed)', forAdmin2, /issued to \S+, not to /],
      ['garbage', 'hello-world', /token/i],
      ['whitespace only', '   ', /token/i],
      ['empty', '', /token/i]
    ]
    for (const [what, token, reason] of cases) {
      const line = refused(await run(bob, ['join', token]), reason, what)
      t.diagnostic(`${what}: ${line}`)
      assert.deepEqual(await networksOf(bob), [], `${what}: bob is in no network`)
    }

    await sleep(Math.max(0, expiresAt - Date.now() + 1500))
    const line = refused(await run(bob, ['join', expiring]), /expired/i, 'expired')
    t.diagnostic(`expired: ${line}`)
    assert.deepEqual(await networksOf(bob), [], 'expired: bob is in no network')

    const good = await invite(admin, ids.bob, 'bob', ['--groups', 'ops'])
    await agentmesh(bob, ['join', good])
    const [network] = await networksOf(bob)
    assert.deepEqual({ name: network?.name, memberName: network?.memberName, groups: network?.groups, admin: network?.admin }, { name: 'fleet', memberName: 'bob', groups: ['ops'], admin: false })
  })

  it('invite is refused on a non-admin member, and for a bad peer id, name, group or --ttl, and for a name already given', async t => {
    const cases: Array<[string, TestDaemon, string[], RegExp]> = [
      ['on a member that holds no network key', bob, ['invite', ids.admin2, '--name', 'x'], /admin|network key|administers no network/i],
      ['a bad peer id', admin, ['invite', 'not-a-peer-id', '--name', 'x'], /peer id/i],
      ['a bad name', admin, ['invite', ids.admin2, '--name', 'Bad_Name!'], /name/i],
      ['a bad group', admin, ['invite', ids.admin2, '--name', 'x', '--groups', 'ops,Not A Group'], /group/i],
      ['a bad --ttl', admin, ['invite', ids.admin2, '--name', 'x', '--ttl', '5 parsecs'], /ttl|duration/i],
      ['a zero --ttl', admin, ['invite', ids.admin2, '--name', 'x', '--ttl', '0s'], /ttl|duration/i],
      ['a name already given to another peer', admin, ['invite', ids.admin2, '--name', 'bob'], /already|bob/i],
      ['revoke of an unknown name', admin, ['revoke', 'nobody'], /nobody/i]
    ]
    const before = JSON.stringify(await networksOf(admin))
    for (const [what, daemon, args, reason] of cases) {
      const line = refused(await run(daemon, args), reason, what)
      t.diagnostic(`${what}: ${line}`)
    }
    assert.equal(JSON.stringify(await networksOf(admin)), before, 'the admin\'s networks did not change (no revocation list either)')
  })

  it('join refuses a second network with the same name and another key', async t => {
    await agentmesh(admin2, ['network', 'init', 'fleet'])
    const token = await invite(admin2, ids.bob, 'bob')
    const before = await networksOf(bob)
    const line = refused(await run(bob, ['join', token]), /fleet/, 'same name, another key')
    t.diagnostic(`same name, another key: ${line}`)
    assert.deepEqual(await networksOf(bob), before, 'bob is still in the first fleet only')
  })
})
