/**
 * Restarts: the exposing daemon A goes away and comes back on the same data
 * directory and port; B's forward, untouched, fails promptly while A is down
 * and carries new connections once A is back. Then B restarts and finds its
 * forward and its trust where it left them.
 */

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cliJson, freePort, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { expose, forward, forwards, forwardView, services, trust, trusted } from '../helpers/services/mesh.ts'
import { roundTrip, startEchoServer, watchEnding } from '../helpers/services/tcp.ts'
import type { TcpService } from '../helpers/services/tcp.ts'
import type { PeerView } from '../../src/control/api.ts'

const NEW_CONNECTIONS = 20

describe('tunnels across daemon restarts', () => {
  const daemons = new Set<TestDaemon>()
  let a: TestDaemon, b: TestDaemon
  let aId: string, bId: string
  let aPort: number, fwdPort: number
  let aAddresses: string[]
  let echo: TcpService | undefined

  async function echoes (message: string, timeoutMs = 5_000): Promise<boolean> {
    return (await roundTrip(fwdPort, Buffer.from(message), timeoutMs)).toString() === message
  }

  async function seesA (connected: boolean): Promise<boolean> {
    const peers = await cliJson<PeerView[]>(b.dataDir, ['peers'])
    return (peers.find(peer => peer.peerId === aId)?.connection != null) === connected
  }

  before(async () => {
    echo = await startEchoServer()
    aPort = await freePort()
    a = await TestDaemon.start({ listen: [`/ip4/127.0.0.1/tcp/${aPort}`] })
    daemons.add(a)
    const aIdentity = await a.id()
    aId = aIdentity.peerId
    aAddresses = aIdentity.addresses
    b = await TestDaemon.start({ bootstrap: aAddresses })
    daemons.add(b)
    bId = (await b.id()).peerId
    await trust(a, bId, 'b')
    await trust(b, aId, 'a')
    await expose(a, 'echo', echo.target)
    fwdPort = await freePort()
    const fwd = await forward(b, aId, 'echo', `127.0.0.1:${fwdPort}`)
    assert.equal(fwd.listen, `127.0.0.1:${fwdPort}`)
    await waitFor('an echo through the forward', async () => echoes('before'), 30_000, 500)
  })

  after(async () => {
    await Promise.all([...[...daemons].map(async daemon => daemon.destroy()), echo?.close()])
  })

  // A goes down in a hook, so that each of these two runs alone too (--test-name-pattern)
  describe('A stops and comes back', () => {
    before(async () => {
      assert.equal(await a.stop(), 0, 'A exits 0 on SIGTERM')
      daemons.delete(a)
      await waitFor('B to see A gone', async () => seesA(false))
    })

    it('while A is down, connections to the forward are closed promptly and counted as peer_unreachable', async () => {
      const failuresBefore = (await forwardView(b, fwdPort)).failures.peer_unreachable ?? 0
      const ending = await watchEnding(fwdPort, Buffer.from('anyone there?'), 20_000)
      assert.notEqual(ending.how, 'timeout', 'the forward still listens, and closes the connection it cannot carry')
      assert.equal(ending.bytes, 0)
      assert.ok(ending.ms < 15_000, `closed within 15 s (took ${ending.ms} ms)`)
      await waitFor('B to count peer_unreachable', async () => ((await forwardView(b, fwdPort)).failures.peer_unreachable ?? 0) > failuresBefore)
    })

    it('once A is back on the same data dir, the untouched forward carries new connections', async () => {
      a = await TestDaemon.start({ dataDir: a.dataDir, listen: [`/ip4/127.0.0.1/tcp/${aPort}`] })
      daemons.add(a)
      assert.equal((await a.id()).peerId, aId, 'A keeps its identity')
      assert.deepEqual((await services(a)).map(service => [service.name, service.target]), [['echo', echo?.target]], 'A restored its expose')
      assert.deepEqual((await trusted(a)).map(entry => entry.peerId), [bId], 'A restored its trust')
      // bounded retries: B re-dials A with backoff, no command from the user
      await waitFor('an echo through the forward after A restarted', async () => echoes('after restart'), 45_000, 500)
      for (let i = 0; i < NEW_CONNECTIONS; i++) assert.ok(await echoes(`connection ${i}`), `new connection ${i}`)
    })
  })

  it('B restarted on its data dir restores its forward and its trust', async () => {
    assert.equal(await b.stop(), 0, 'B exits 0 on SIGTERM')
    daemons.delete(b)
    b = await TestDaemon.start({ dataDir: b.dataDir, bootstrap: aAddresses })
    daemons.add(b)
    const restored = await forwards(b)
    assert.deepEqual(restored.map(entry => [entry.listen, entry.peer, entry.service]), [[`127.0.0.1:${fwdPort}`, aId, 'echo']])
    assert.deepEqual((await trusted(b)).map(entry => entry.peerId), [aId], 'B restored its trust')
    await waitFor('an echo through the restored forward', async () => echoes('after B restarted'), 30_000, 500)
  })
})
