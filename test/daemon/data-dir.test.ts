/**
 * A data directory that cannot be subverted, and state writes that never step on each
 * other (issue 18, items 6 and 7): a group- or other-writable directory stops the start
 * with a one-line error; temporary files have random names, are created exclusively and
 * never followed through a link; stale ones are removed at start; concurrent changes
 * each get their true answer.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chmod, lstat, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { resolveDataDir } from '../../src/config/data-dir.ts'
import { ControlClient } from '../../src/control/client.ts'
import { removeStaleTempFiles, writeJsonFile } from '../../src/state/json-file.ts'
import { cli, TestDaemon, tempDir } from '../helpers/daemon.ts'

const PARALLEL = 55

describe('the data directory cannot be subverted', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(async () => {
    for (const step of cleanup.reverse()) await step()
  })

  for (const mode of [0o777, 0o770, 0o702]) {
    it(`refuses to start on a data directory of mode ${mode.toString(8)}, with a one-line error, creating nothing`, async () => {
      const dir = await tempDir()
      cleanup.push(async () => rm(dir, { recursive: true, force: true }))
      await chmod(dir, mode)
      const result = await cli(['start', '--data-dir', dir, '--listen', '/ip4/127.0.0.1/tcp/0'])
      assert.notEqual(result.code, 0)
      assert.match(result.stderr, /Bad permissions on data directory .*: mode 0\d+ lets .* write to it; run chmod go-w /)
      assert.equal(result.stderr.trim().split('\n').length, 1, `a one-line error: ${result.stderr}`)
      assert.deepEqual(await readdir(dir), [], 'no key, pid file or socket was created')
    })
  }

  it('never writes through a link planted at a temporary name, and removes such names at start', async () => {
    const dir = await tempDir()
    cleanup.push(async () => rm(dir, { recursive: true, force: true }))
    const victim = join(dir, 'victim')
    await writeFile(victim, 'untouched\n')
    const file = join(dir, 'trust.json')
    // the names the old code used (pid) and a made-up random one
    await symlink(victim, `${file}.${process.pid}.tmp`)
    await symlink(victim, `${file}.0123456789abcdef.tmp`)
    await writeJsonFile(file, [{ peerId: 'x', groups: [] }])
    assert.equal(await readFile(victim, 'utf8'), 'untouched\n', 'the link target is untouched')
    assert.ok((await lstat(file)).isFile(), 'trust.json is a regular file, not a link')
    assert.equal((await lstat(file)).mode & 0o777, 0o600)
    assert.deepEqual((await removeStaleTempFiles(dir)).sort(), [`trust.json.${process.pid}.tmp`, 'trust.json.0123456789abcdef.tmp'].sort())
    assert.deepEqual((await readdir(dir)).sort(), ['trust.json', 'victim'])
    assert.equal(await readFile(victim, 'utf8'), 'untouched\n', 'removing a link leaves its target')
  })

  it('a daemon removes stale temporary files at start and keeps its state', async () => {
    const dir = await tempDir()
    cleanup.push(async () => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'services.json.12345.tmp'), '[half a write')
    await symlink('/nonexistent', join(dir, 'forwards.json.deadbeefdeadbeef.tmp'))
    const daemon = await TestDaemon.start({ dataDir: dir })
    cleanup.push(async () => daemon.destroy())
    assert.equal(existsSync(join(dir, 'services.json.12345.tmp')), false)
    assert.equal((await readdir(dir)).filter(name => name.endsWith('.tmp')).length, 0)
  })

  it(`${PARALLEL} parallel trust changes each get their true answer, and all are kept`, async () => {
    const daemon = await TestDaemon.start()
    cleanup.push(async () => daemon.destroy())
    const client = new ControlClient(resolveDataDir(daemon.dataDir, {}))
    const peers = await Promise.all(Array.from({ length: PARALLEL }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
    const answers = await Promise.allSettled(peers.map(async (peerId, index) => client.trust({ peerId, name: `p${index}` })))
    const failed = answers.filter(answer => answer.status === 'rejected')
    assert.equal(failed.length, 0, `${failed.length} of ${PARALLEL} failed: ${failed.map(answer => String((answer as PromiseRejectedResult).reason)).slice(0, 3).join('; ')}`)
    const saved = JSON.parse(await readFile(join(daemon.dataDir, 'trust.json'), 'utf8')) as Array<{ peerId: string }>
    assert.deepEqual(saved.map(peer => peer.peerId).sort(), [...peers].sort(), 'trust.json holds every change')
    assert.equal((await readdir(daemon.dataDir)).filter(name => name.endsWith('.tmp')).length, 0, 'no temporary file is left')
  })
})
