/**
 * Connection encryption: agentmesh offers noise, then TLS 1.3 (`connections.encryption`).
 * A node that speaks only TLS (`connections.encryption` = tls) and one that speaks only
 * noise (an older agentmesh, or stock js-libp2p) each connect to a default node, both as
 * the dialer and as the dialled side, and tunnel; `peers --json` names each connection's
 * encryption.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { rm } from 'node:fs/promises'
import { cli, cliJson, tempDir, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { deterministicBytes, sha256 } from '../helpers/services/data.ts'
import { agentmesh, expose, forward, trust } from '../helpers/services/mesh.ts'
import { roundTrip, startEchoServer } from '../helpers/services/tcp.ts'
import type { PeerView } from '../../src/control/api.ts'
import type { TcpService } from '../helpers/services/tcp.ts'
import type { Libp2p } from '@libp2p/interface'

const NOISE_ONLY = { AGENTMESH_CONNECTIONS_ENCRYPTION: 'noise' }
const TLS_ONLY = { AGENTMESH_CONNECTIONS_ENCRYPTION: 'tls' }

async function encryptionOf (daemon: TestDaemon, peerId: string): Promise<string | undefined> {
  return waitFor(`the connection to ${peerId} in peers --json`, async () =>
    (await cliJson<PeerView[]>(daemon.dataDir, ['peers'])).find(peer => peer.peerId === peerId && peer.connection != null)?.encryption)
}

/** 256 KiB through a forward to an echo service, compared by hash. */
async function echoesThrough (port: number): Promise<void> {
  const sent = deterministicBytes('agentmesh encryption', 256 * 1024)
  assert.equal(sha256(await roundTrip(port, sent)), sha256(sent))
}

describe('connection encryption: noise, then TLS 1.3, each taken by peers that speak only it', () => {
  let a: TestDaemon
  let tlsOnly: TestDaemon
  let older: TestDaemon
  let echo: TcpService
  let stock: Libp2p | undefined

  before(async () => {
    echo = await startEchoServer()
    a = await TestDaemon.start()
    const aAddresses = (await a.id()).addresses
    tlsOnly = await TestDaemon.start({ bootstrap: aAddresses, env: TLS_ONLY })
    older = await TestDaemon.start({ env: NOISE_ONLY })
    await expose(a, 'echo', echo.target)
  })

  after(async () => {
    await stock?.stop()
    await Promise.all([a, tlsOnly, older].map(async daemon => daemon?.destroy()))
    await echo?.close()
  })

  it('a node that speaks only TLS 1.3 connects as the dialer and as the dialled side, and tunnels over TLS', async () => {
    const [aId, tlsId] = await Promise.all([a.id(), tlsOnly.id()])
    await trust(a, tlsId.peerId)
    await trust(tlsOnly, aId.peerId)
    // it dialled A (its bootstrap node), which offered noise first and then took /tls/1.0.0
    const fwd = await forward(tlsOnly, aId.peerId, 'echo')
    await echoesThrough(fwd.port)
    assert.equal(await encryptionOf(tlsOnly, aId.peerId), '/tls/1.0.0')
    assert.equal(await encryptionOf(a, tlsId.peerId), '/tls/1.0.0')
    // A dials it: /noise refused, /tls/1.0.0 taken
    await agentmesh(tlsOnly, ['unforward', String(fwd.port)])
    await tlsOnly.stop()
    tlsOnly = await TestDaemon.start({ dataDir: tlsOnly.dataDir, env: TLS_ONLY })
    const restarted = await tlsOnly.id()
    await agentmesh(a, ['ping', restarted.addresses[0]!, '--count', '1'])
    assert.equal(await encryptionOf(a, tlsId.peerId), '/tls/1.0.0')
  })

  it('a node that speaks only noise connects as the dialled side and as the dialer, and tunnels over noise', async () => {
    const [aId, olderId] = await Promise.all([a.id(), older.id()])
    await trust(a, olderId.peerId)
    await trust(older, aId.peerId)
    // A dials it
    await agentmesh(a, ['ping', olderId.addresses[0]!, '--count', '1'])
    assert.equal(await encryptionOf(a, olderId.peerId), '/noise')
    assert.equal(await encryptionOf(older, aId.peerId), '/noise')
    const fwd = await forward(older, aId.peerId, 'echo')
    await echoesThrough(fwd.port)
    // and as the dialer: restarted with A as its bootstrap node, it dials A
    await agentmesh(older, ['unforward', String(fwd.port)])
    await older.stop()
    older = await TestDaemon.start({ dataDir: older.dataDir, env: NOISE_ONLY, bootstrap: aId.addresses })
    const again = await forward(older, aId.peerId, 'echo')
    await echoesThrough(again.port)
    assert.equal(await encryptionOf(older, aId.peerId), '/noise')
  })

  it('stock js-libp2p with noise and yamux only connects both ways', async () => {
    stock = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { ping: ping() }
    })
    const aId = await a.id()
    const rtt = await (stock.services.ping as { ping(peer: ReturnType<typeof multiaddr>): Promise<number> }).ping(multiaddr(aId.addresses[0]!))
    assert.ok(rtt >= 0)
    assert.equal(await encryptionOf(a, stock.peerId.toString()), '/noise')
    assert.equal(stock.getConnections()[0]?.encryption, '/noise')
    await stock.hangUp(multiaddr(aId.addresses[0]!))
    await waitFor('A to see the stock node go', async () => !(await cliJson<PeerView[]>(a.dataDir, ['peers'])).some(peer => peer.peerId === stock!.peerId.toString() && peer.connection != null))
    // A dials the stock node
    await agentmesh(a, ['ping', `${stock.getMultiaddrs()[0]!.toString()}`, '--count', '1'])
    assert.equal(await encryptionOf(a, stock.peerId.toString()), '/noise')
  })

  it('refuses an encryption it does not know, naming the key, at start', async () => {
    const dataDir = await tempDir()
    const result = await cli(['start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0'], { AGENTMESH_CONNECTIONS_ENCRYPTION: 'noise,rot13' })
    await rm(dataDir, { recursive: true, force: true })
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /connections\.encryption/)
    assert.match(result.stderr, /AGENTMESH_CONNECTIONS_ENCRYPTION/)
  })
})
