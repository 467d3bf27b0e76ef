/**
 * Names come from certificates: `forward 0 bob/web` reaches bob's peer id, on the
 * admin that issued bob's certificate and on a member that only heard it in a hello;
 * `peers --json` and `members --json` show names, groups, networks, online and path.
 * A node can be a member of two networks (two admins, two tokens), and a service
 * exposed `--network alpha` is refused WRONG_NETWORK when reached in network beta.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { TestDaemon, waitFor } from '../helpers/daemon.ts'
import { echoProbe, enrol, forwardFailures, forwardTo, membersOf, networksOf, peersOf } from '../helpers/membership.ts'
import { agentmesh } from '../helpers/services/mesh.ts'
import { startEchoServer } from '../helpers/services/tcp.ts'
import { missingTool } from '../helpers/services/tools.ts'
import type { Server } from 'node:http'
import type { TcpService } from '../helpers/services/tcp.ts'

const BODY = 'bob\'s web page, through the mesh\n'
const curlMissing = missingTool('curl', 'curl')

async function curl (port: number): Promise<{ code: number, body: string }> {
  return new Promise(resolve => {
    execFile('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${port}/`], (err: any, stdout) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), body: stdout })
    })
  })
}

describe('member names, peers, members, and two networks', () => {
  let alice: TestDaemon, bob: TestDaemon, carol: TestDaemon
  const ids: Record<string, string> = {}
  let web: Server
  let webPort: number
  let alphaOnly: TcpService
  let carolEcho: TcpService

  before(async () => {
    web = createServer((_req, res) => { res.end(BODY) })
    web.listen(0, '127.0.0.1')
    await once(web, 'listening')
    webPort = (web.address() as { port: number }).port
    alphaOnly = await startEchoServer()
    carolEcho = await startEchoServer()

    alice = await TestDaemon.start()
    const aliceAddresses = (await alice.id()).addresses
    ;[bob, carol] = await Promise.all([TestDaemon.start({ bootstrap: aliceAddresses }), TestDaemon.start({ bootstrap: aliceAddresses })])
    for (const [name, daemon] of Object.entries({ alice, bob, carol })) ids[name] = (await daemon.id()).peerId
    // two admins, each with its own network; bob and alice hold a token of each
    await agentmesh(alice, ['network', 'init', 'alpha', '--member-name', 'alice'])
    await agentmesh(carol, ['network', 'init', 'beta', '--member-name', 'carol'])
    await enrol(alice, bob, 'bob', ['--groups', 'web-team'])
    await enrol(carol, bob, 'bob', ['--groups', 'ops'])
    await enrol(carol, alice, 'alice')
    await agentmesh(bob, ['expose', 'web', `127.0.0.1:${webPort}`, '--proto', 'http'])
    await agentmesh(bob, ['expose', 'alphaonly', alphaOnly.target, '--network', 'alpha'])
    await agentmesh(carol, ['expose', 'echo', carolEcho.target])
  })

  after(async () => {
    await Promise.all([alice, bob, carol].map(async daemon => daemon?.destroy()))
    web?.close()
    web?.closeAllConnections()
    await Promise.all([alphaOnly?.close(), carolEcho?.close()])
  })

  it('bob is a member of two networks, under two admins', async () => {
    const networks = await networksOf(bob)
    assert.deepEqual(networks.map(n => ({ name: n.name, memberName: n.memberName, groups: n.groups, admin: n.admin })), [
      { name: 'alpha', memberName: 'bob', groups: ['web-team'], admin: false },
      { name: 'beta', memberName: 'bob', groups: ['ops'], admin: false }
    ])
    assert.notEqual(networks[0]?.vni, networks[1]?.vni)
  })

  it('peers --json shows a member\'s name, groups and networks', async () => {
    const view = await waitFor('alice to know bob in both networks', async () => {
      const peer = (await peersOf(alice)).find(p => p.peerId === ids.bob)
      return peer?.networks.length === 2 ? peer : undefined
    }, 10_000)
    assert.equal(view.name, 'bob')
    assert.deepEqual([...view.networks].sort(), ['alpha', 'beta'])
    assert.deepEqual([...view.groups].sort(), ['ops', 'web-team'])
    assert.equal(view.trusted, true)
    assert.equal(view.connection, 'direct')
  })

  it('forward 0 bob/web resolves bob from its certificate, and curl gets the page through', { skip: curlMissing }, async () => {
    const fwd = await forwardTo(alice, 'bob/web')
    assert.equal(fwd.peer, ids.bob, 'the name resolved to bob\'s peer id')
    const result = await curl(fwd.port)
    assert.deepEqual(result, { code: 0, body: BODY })
  })

  it('a member resolves a name it learned only in a hello: bob forwards to carol/echo', async () => {
    const fwd = await forwardTo(bob, 'carol/echo')
    assert.equal(fwd.peer, ids.carol)
    assert.equal(await echoProbe(fwd.port), 'Y')
  })

  it('members --json lists admins and members with online and path', async () => {
    const members = await waitFor('alice to list everyone', async () => {
      const list = await membersOf(alice)
      return list.length >= 5 ? list : undefined
    }, 10_000)
    const table = members.map(m => ({ network: m.network, name: m.name, peerId: m.peerId, role: m.role, self: m.self, online: m.online, path: m.path, revoked: m.revoked }))
    assert.deepEqual(table, [
      { network: 'alpha', name: 'alice', peerId: ids.alice, role: 'admin', self: true, online: true, path: null, revoked: false },
      { network: 'alpha', name: 'bob', peerId: ids.bob, role: 'member', self: false, online: true, path: 'direct', revoked: false },
      { network: 'beta', name: 'alice', peerId: ids.alice, role: 'member', self: true, online: true, path: null, revoked: false },
      { network: 'beta', name: 'bob', peerId: ids.bob, role: 'member', self: false, online: true, path: 'direct', revoked: false },
      { network: 'beta', name: 'carol', peerId: ids.carol, role: 'admin', self: false, online: true, path: 'direct', revoked: false }
    ])
    for (const member of members) {
      assert.match(member.serial, /^\d+$/)
      assert.ok(Date.parse(member.expires) > Date.now(), `${member.name} in ${member.network}: expires in the future`)
    }
  })

  it('a service exposed --network alpha is refused WRONG_NETWORK when reached in network beta, and served in alpha', async t => {
    const before = alphaOnly.connections
    const wrong = await forwardTo(alice, 'bob/alphaonly', { network: 'beta' })
    assert.equal(await echoProbe(wrong.port), 'N')
    const failures = await forwardFailures(alice, wrong.port)
    t.diagnostic(`--network beta: ${JSON.stringify(failures)}`)
    assert.deepEqual(failures, { wrong_network: 1 })
    assert.equal(alphaOnly.connections, before, 'nothing reached the service')
    const right = await forwardTo(alice, 'bob/alphaonly', { network: 'alpha', listen: '0' })
    assert.equal(await echoProbe(right.port), 'Y')
    assert.equal(alphaOnly.connections, before + 1)
  })
})
