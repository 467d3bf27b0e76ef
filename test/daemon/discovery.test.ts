import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cliJson, freePort, TestDaemon, waitFor } from '../helpers/daemon.ts'
import type { PeerView } from '../../src/control/api.ts'

describe('a mesh of three daemons on 127.0.0.1', () => {
  const daemons: TestDaemon[] = []
  let a: TestDaemon, b: TestDaemon, c: TestDaemon
  let aId: string, bId: string
  let aPort: number
  /** when C, which knows only A, was started */
  let cStarted: number

  before(async () => {
    aPort = await freePort()
    a = await TestDaemon.start({ listen: [`/ip4/127.0.0.1/tcp/${aPort}`] })
    daemons.push(a)
    const id = await a.id()
    aId = id.peerId
    b = await TestDaemon.start({ bootstrap: id.addresses })
    daemons.push(b)
    bId = (await b.id()).peerId
    cStarted = Date.now()
    c = await TestDaemon.start({ bootstrap: id.addresses })
    daemons.push(c)
  })

  after(async () => {
    await Promise.all(daemons.map(async daemon => daemon.destroy()))
  })

  it('C finds B through the DHT within 10 s, knowing only the bootstrap node', async () => {
    // B can be listed a moment before its addresses are (B dialled C, and identify has not answered yet)
    await waitFor('C to list B with its addresses', async () => {
      const peers = await cliJson<PeerView[]>(c.dataDir, ['peers'])
      return peers.some(peer => peer.peerId === bId && peer.addresses.length > 0)
    }, 10_000 - (Date.now() - cStarted))
    const status = await cliJson(c.dataDir, ['status'])
    assert.ok(status.knownPeers >= 2)
  })

  it('reconnects to a restarted bootstrap node without help', async () => {
    assert.equal(await a.stop(), 0, 'the bootstrap node exits 0 on SIGTERM')
    daemons.splice(daemons.indexOf(a), 1)
    for (const daemon of [b, c]) {
      await waitFor('the bootstrap node to be seen as gone', async () => {
        const peers = await cliJson<PeerView[]>(daemon.dataDir, ['peers'])
        return peers.find(peer => peer.peerId === aId)?.connection == null
      })
    }
    a = await TestDaemon.start({ dataDir: a.dataDir, listen: [`/ip4/127.0.0.1/tcp/${aPort}`] })
    daemons.push(a)
    assert.equal((await a.id()).peerId, aId, 'the restarted node keeps its identity')
    for (const daemon of [b, c]) {
      await waitFor('the others to reconnect to the bootstrap node', async () => {
        const peers = await cliJson<PeerView[]>(daemon.dataDir, ['peers'])
        return peers.find(peer => peer.peerId === aId)?.connection === 'direct'
      }, 20_000)
    }
  })
})
