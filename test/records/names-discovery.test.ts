/**
 * Names and service discovery over the DHT, as users drive them: `resolve` a member never
 * met before, `services --all`, `forward` by name and to `*\/<service>` with failover when
 * the chosen provider stops, and a name that moves to a new peer id.
 *
 * Built in the order a user can act: daemons start (bootstrapped from the admin's node),
 * their ids are read, the admin invites each, each joins; then the services are exposed.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cliJson, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { echoProbe, enrol, forwardFailures, forwardTo } from '../helpers/membership.ts'
import { agentmesh } from '../helpers/services/mesh.ts'
import { connectTcp, closing, startEchoServer } from '../helpers/services/tcp.ts'
import type { TcpService } from '../helpers/services/tcp.ts'
import type { AllServicesView, ResolvedMember } from '../../src/control/api.ts'


describe('names and service discovery over the DHT', () => {
  const daemons: Record<string, TestDaemon> = {}
  const ids: Record<string, string> = {}
  const echoes: Record<string, TcpService> = {}

  before(async () => {
    daemons.admin = await TestDaemon.start()
    const bootstrap = (await daemons.admin.id()).addresses
    for (const name of ['p1', 'p2', 'client']) daemons[name] = await TestDaemon.start({ bootstrap })
    for (const [name, daemon] of Object.entries(daemons)) ids[name] = (await daemon.id()).peerId
    await agentmesh(daemons.admin, ['network', 'init', 'fleet'])
    for (const name of ['p1', 'p2', 'client']) await enrol(daemons.admin, daemons[name], name)
    for (const name of ['p1', 'p2']) {
      echoes[name] = await startEchoServer()
      await agentmesh(daemons[name], ['expose', 'inference', echoes[name].target, '--publish'])
      await agentmesh(daemons[name], ['expose', 'private', echoes[name].target])
    }
  })

  after(async () => {
    await Promise.all(Object.values(daemons).map(async daemon => daemon.destroy()))
    await Promise.all(Object.values(echoes).map(async echo => echo.close()))
  })

  it('resolves a member it never met through the DHT: its peer id, addresses and published services only', async () => {
    // p1 says so in its log once its record with the service is in the DHT
    await waitFor('p1 to publish inference', async () => /"services":\["inference"\].*member record published/.test(daemons.p1.stderr) || undefined, 20_000, 200)
    const found = await cliJson<ResolvedMember>(daemons.client.dataDir, ['resolve', 'p1'])
    assert.equal(found.peerId, ids.p1)
    assert.equal(found.network, 'fleet')
    assert.equal(found.source, 'dht')
    assert.deepEqual(found.services.map(service => service.name), ['inference'], 'the unpublished service stays private')
    assert.equal(found.services[0].port, echoes.p1.port)
    assert.ok(found.addresses.some(address => address.endsWith(`/p2p/${ids.p1}`)))
    assert.equal((await cliJson<ResolvedMember>(daemons.client.dataDir, ['resolve', 'p1'])).source, 'cache', 'a second lookup is answered from the cache')
    const missing = await agentmesh(daemons.client, ['resolve', 'nobody']).then(() => 'exited 0', (err: Error) => err.message)
    assert.match(missing, /no member named "nobody"/)
  })

  it('lists the services members publish, with the member, nearest first', async () => {
    const all = await waitFor('both providers listed', async () => {
      const answer = await cliJson<AllServicesView>(daemons.client.dataDir, ['services', '--all'])
      return answer.published.length === 2 ? answer : undefined
    }, 20_000, 500)
    assert.deepEqual(all.published.map(entry => [entry.name, entry.member]).sort(), [['inference', 'p1'], ['inference', 'p2']])
    assert.ok(all.published[0].rttMs <= all.published[1].rttMs)
  })

  it('forwards by name, and to */<service> with failover when the chosen provider stops', async () => {
    const byName = await forwardTo(daemons.client, 'p2/inference')
    assert.equal(byName.peer, ids.p2, 'the name became p2\'s peer id')
    assert.equal(await echoProbe(byName.port), 'Y')

    const any = await forwardTo(daemons.client, '*/inference')
    const before = { p1: echoes.p1.connections, p2: echoes.p2.connections }
    const socket = await connectTcp(any.port)
    const closed = closing(socket)
    socket.write('hold\n')
    await waitFor('the open tunnel to reach a provider', async () => echoes.p1.connections + echoes.p2.connections > before.p1 + before.p2 || undefined, 10_000, 50)
    const chosen = echoes.p1.connections > before.p1 ? 'p1' : 'p2'
    const other = chosen === 'p1' ? 'p2' : 'p1'
    await daemons[chosen].stop('SIGKILL')
    const end = await Promise.race([closed, new Promise<undefined>(resolve => setTimeout(() => { resolve(undefined) }, 15_000))])
    assert.equal(end?.error, 'ECONNRESET', 'the connection open when its provider went fails as a reset')
    const otherBefore = echoes[other].connections
    // new connections move to the other provider: within the re-dial and choice bounds, bounded here
    await waitFor(`new connections to reach ${other}`, async () => (await echoProbe(any.port, 'again\n', 5_000)) === 'Y' || undefined, 30_000, 500)
    assert.ok(echoes[other].connections > otherBefore, `${other} served the new connection`)
    process.stdout.write(`# */inference: ${chosen} stopped, new connections to ${other}; failures on the way: ${JSON.stringify(await forwardFailures(daemons.client, any.port))}\n`)
    daemons[chosen] = await TestDaemon.start({ dataDir: daemons[chosen].dataDir, bootstrap: (await daemons.admin.id()).addresses })
  })

  it('follows a name that moves to a new peer id once the new record is valid', async () => {
    const fwd = await forwardTo(daemons.client, 'p2/inference')
    // p2 may be the provider the test above stopped and started again
    await waitFor('the forward by name to reach p2', async () => (await echoProbe(fwd.port, 'first\n', 5_000)) === 'Y' || undefined, 20_000, 500)
    // p2's identity is retired: the admin revokes it and gives the name to a new node
    await agentmesh(daemons.admin, ['revoke', 'p2'])
    const moved = await TestDaemon.start({ bootstrap: (await daemons.admin.id()).addresses })
    daemons.moved = moved
    await enrol(daemons.admin, moved, 'p2')
    echoes.moved = await startEchoServer()
    await agentmesh(moved, ['expose', 'inference', echoes.moved.target, '--publish'])
    const movedId = (await moved.id()).peerId
    await waitFor('the client to resolve p2 to its new peer id', async () => {
      const answer = await cliJson<ResolvedMember>(daemons.client.dataDir, ['resolve', 'p2']).catch(() => undefined)
      return answer?.peerId === movedId || undefined
    }, 30_000, 500)
    await waitFor('the forward by name to reach the new p2', async () => (await echoProbe(fwd.port, 'moved\n', 5_000)) === 'Y' || undefined, 20_000, 500)
    assert.ok(echoes.moved.connections > 0, 'the new p2 served the forward by name')
  })
})
