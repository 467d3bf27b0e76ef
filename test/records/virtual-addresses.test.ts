/**
 * `map <name>`: a member's stable 127.77.x.y address, where real clients reach its
 * services on their own ports: curl to an HTTP server, OpenSSH's ssh to sshd. The
 * member says which of its services this node may use (published or not; its grants
 * decide), `hosts` prints the line, `unmap` removes it, and a restart keeps it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cliJson, TestDaemon } from '../helpers/daemon.ts'
import { enrol } from '../helpers/membership.ts'
import { startHttpService } from '../helpers/services/http.ts'
import { agentmesh } from '../helpers/services/mesh.ts'
import { describeRun, run } from '../helpers/services/process.ts'
import { sshMissing, startSshd } from '../helpers/services/sshd.ts'
import { missingTool } from '../helpers/services/tools.ts'
import type { HttpService } from '../helpers/services/http.ts'
import type { Sshd } from '../helpers/services/sshd.ts'
import type { MapView } from '../../src/control/api.ts'

const skip = sshMissing() || missingTool('curl', 'curl')

describe('virtual addresses: map, hosts, unmap', { skip }, () => {
  let admin: TestDaemon, bob: TestDaemon, alice: TestDaemon
  let http: HttpService
  let sshd: Sshd
  let map: MapView

  async function curl (url: string): Promise<string> {
    const result = await run('curl', ['--silent', '--show-error', '--fail', '--max-time', '20', url], { timeoutMs: 30_000 })
    assert.equal(result.code, 0, describeRun(`curl ${url}`, result))
    return result.stdout
  }

  before(async () => {
    http = await startHttpService()
    sshd = await startSshd()
    admin = await TestDaemon.start()
    const bootstrap = (await admin.id()).addresses
    bob = await TestDaemon.start({ bootstrap })
    alice = await TestDaemon.start({ bootstrap })
    await agentmesh(admin, ['network', 'init', 'fleet'])
    await enrol(admin, bob, 'bob', ['--groups', 'ops'])
    await enrol(admin, alice, 'alice')
    // published, private, and private for @ops only: alice may use the first two
    await agentmesh(bob, ['expose', 'web', http.target, '--proto', 'http', '--publish'])
    await agentmesh(bob, ['expose', 'ssh', sshd.target, '--proto', 'ssh'])
    await agentmesh(bob, ['expose', 'admin', http.target, '--allow', '@ops'])
  })

  after(async () => {
    await Promise.all([admin?.destroy(), bob?.destroy(), alice?.destroy(), http?.close(), sshd?.stop()])
  })

  it('maps bob to a 127.77.x.y address with the services bob lets alice use, each on its own port', async () => {
    map = await cliJson<MapView>(alice.dataDir, ['map', 'bob'])
    assert.match(map.address, /^127\.77\.\d{1,3}\.\d{1,3}$/)
    assert.equal(map.network, 'fleet')
    assert.deepEqual(map.ports.map(port => port.service).sort(), ['ssh', 'web'], 'the @ops service is not bob\'s to give alice')
    for (const port of map.ports) {
      assert.equal(port.listening, true)
      assert.equal(port.listen, `${map.address}:${port.service === 'web' ? http.port : sshd.port}`, `${port.service} on its own port`)
    }
  })

  it('a real curl and a real ssh reach bob\'s services at the address', async () => {
    assert.equal(await curl(`http://${map.address}:${http.port}/hello?i=7`), 'hello 7\n')
    const nonce = String(Date.now())
    const result = await run('ssh', [...sshd.clientOptions(), '-p', String(sshd.port), `${sshd.user}@${map.address}`, `echo mapped ${nonce}`], { timeoutMs: 30_000 })
    assert.equal(result.code, 0, `${describeRun('ssh', result)}\nsshd log:\n${sshd.log()}`)
    assert.equal(result.stdout.trim(), `mapped ${nonce}`)
  })

  it('prints hosts lines, keeps the map across a restart, and unmap removes the listeners', async () => {
    assert.deepEqual((await agentmesh(alice, ['hosts'])).trim().split('\n'), [`${map.address} bob.fleet.mesh`])
    await alice.stop()
    alice = await TestDaemon.start({ dataDir: alice.dataDir, bootstrap: (await admin.id()).addresses })
    const again = await cliJson<MapView[]>(alice.dataDir, ['map'])
    assert.deepEqual(again.map(entry => [entry.name, entry.address]), [['bob', map.address]], 'the same address after a restart')
    assert.equal(await curl(`http://${map.address}:${http.port}/hello?i=7`), 'hello 7\n')
    await agentmesh(alice, ['unmap', 'bob'])
    assert.deepEqual(await cliJson<MapView[]>(alice.dataDir, ['map']), [])
    const refused = await run('curl', ['--silent', '--max-time', '5', `http://${map.address}:${http.port}/hello`], { timeoutMs: 10_000 })
    assert.equal(refused.code, 7, 'nothing listens there any more (curl: could not connect)')
  })
})
