/**
 * Forwards open to the network only when asked (issue 18, item 8), as OpenSSH's
 * `ssh -L` binds loopback unless `-g`: a non-loopback listen address is refused
 * without `--gateway`/`-g`, accepted with it and shown in `forwards`; a saved forward
 * that would open to the network without the flag is not restored silently. Expose
 * targets with impossible host names are refused.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { cli, cliJson, TestDaemon, tempDir } from '../helpers/daemon.ts'
import type { ForwardView, ServiceView } from '../../src/control/api.ts'

describe('forwards listen on loopback unless --gateway', () => {
  let daemon: TestDaemon
  let restored: TestDaemon
  let peer: string

  before(async () => {
    peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    daemon = await TestDaemon.start()
    const dir = await tempDir()
    await writeFile(join(dir, 'forwards.json'), JSON.stringify([
      { listen: '0.0.0.0:0', peer, service: 'old' },
      { listen: '127.0.0.1:0', peer, service: 'local' }
    ]), { mode: 0o600 })
    // saved before targets were checked: still loaded (and shown down), never a reason not to start
    await writeFile(join(dir, 'services.json'), JSON.stringify([{ name: 'old', target: 'a b:80', proto: 'tcp' }]), { mode: 0o600 })
    restored = await TestDaemon.start({ dataDir: dir })
  })

  after(async () => {
    await Promise.all([daemon?.destroy(), restored?.destroy()])
  })

  it('refuses 0.0.0.0 without --gateway, with a one-line error, and opens nothing', async () => {
    const result = await cli(['forward', '0.0.0.0:0', `${peer}/ssh`, '--data-dir', daemon.dataDir])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /0\.0\.0\.0:0 is not a loopback address: .* pass --gateway \(-g\)/)
    assert.equal(result.stderr.trim().split('\n').length, 1)
    assert.deepEqual(await cliJson(daemon.dataDir, ['forwards']), [])
  })

  it('binds 127.0.0.1 by default, and says it is no gateway', async () => {
    const view = await cliJson(daemon.dataDir, ['forward', '0', `${peer}/a`])
    assert.match(view.listen, /^127\.0\.0\.1:\d+$/)
    assert.equal(view.gateway, false)
  })

  it('opens 0.0.0.0 with -g, and `forwards` shows it as a gateway', async () => {
    const view = await cliJson(daemon.dataDir, ['forward', '-g', '0.0.0.0:0', `${peer}/b`])
    assert.match(view.listen, /^0\.0\.0\.0:\d+$/)
    assert.equal(view.gateway, true)
    const listed = (await cliJson<ForwardView[]>(daemon.dataDir, ['forwards'])).find(entry => entry.service === 'b')
    assert.equal(listed?.gateway, true)
    assert.equal(listed?.listening, true)
    const table = await cli(['forwards', '--data-dir', daemon.dataDir])
    assert.match(table.stdout, /0\.0\.0\.0:\d+ \(gateway\)/)
  })

  it('does not restore a saved forward to 0.0.0.0 that has no gateway flag, and keeps it listed', async () => {
    const views = await cliJson<ForwardView[]>(restored.dataDir, ['forwards'])
    assert.equal(views.find(entry => entry.service === 'old')?.listening, false)
    assert.equal(views.find(entry => entry.service === 'local')?.listening, true)
    assert.match(restored.stderr, /cannot restore forward: 0\.0\.0\.0:0 is not a loopback address/)
    const saved = await cliJson<ServiceView[]>(restored.dataDir, ['services'])
    assert.deepEqual(saved.map(service => [service.name, service.target, service.up]), [['old', 'a b:80', false]])
  })

  for (const target of ['a b:80', 'x_y!:80', 'bad-.example:22', `${'a'.repeat(64)}.example:22`]) {
    it(`refuses to expose "${target}": an impossible host name`, async () => {
      const result = await cli(['expose', 'svc', target, '--data-dir', daemon.dataDir])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /is neither an IP address nor a possible host name/)
      assert.equal(result.stderr.trim().split('\n').length, 1)
      assert.deepEqual(await cliJson(daemon.dataDir, ['services']), [])
    })
  }

  it('still exposes IP addresses and host names', async () => {
    for (const target of ['127.0.0.1:1', '[::1]:2', 'localhost:3', 'db-1.internal.example:5432']) {
      assert.equal((await cli(['expose', `s${target.length}`, target, '--data-dir', daemon.dataDir])).code, 0, target)
    }
  })
})
