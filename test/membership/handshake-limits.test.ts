/**
 * A peer cannot make a member spin on handshakes: past HANDSHAKES_PER_MINUTE_PER_PEER
 * hellos a minute its membership streams are reset, the refusal is logged once (not
 * once per retry), other peers are not affected, and nothing it sends adds trust.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { exchangeHello, HANDSHAKES_PER_MINUTE_PER_PEER } from '../../protocols/membership/index.ts'
import { cliJson, TestDaemon } from '../helpers/daemon.ts'
import { startInProcessNode } from '../helpers/mesh-node.ts'
import type { InProcessNode } from '../helpers/mesh-node.ts'
import type { PeerView } from '../../src/control/api.ts'

describe('membership handshakes from one peer are rate-limited', () => {
  let admin: TestDaemon
  let address: string
  const nodes: InProcessNode[] = []

  before(async () => {
    admin = await TestDaemon.start()
    address = (await admin.id()).addresses[0] as string
    await cliJson(admin.dataDir, ['network', 'init', 'fleet'])
  })

  after(async () => {
    for (const node of nodes) await node.stop()
    await admin?.destroy()
  })

  /** `count` hellos on one connection, one after the other: how many were answered. */
  async function hellos (node: InProcessNode, count: number): Promise<number> {
    const connection = await node.node.dial(multiaddr(address))
    let answered = 0
    for (let i = 0; i < count; i++) {
      try {
        const answer = await exchangeHello(connection, { type: 'hello', certificates: [], revocations: [] })
        if (answer.type === 'hello') answered++
      } catch {}
    }
    return answered
  }

  it(`answers ${HANDSHAKES_PER_MINUTE_PER_PEER} hellos a minute from one peer, resets the rest, and logs that once`, async () => {
    const flooder = await startInProcessNode(() => false)
    nodes.push(flooder)
    assert.equal(await hellos(flooder, HANDSHAKES_PER_MINUTE_PER_PEER + 10), HANDSHAKES_PER_MINUTE_PER_PEER)
    const lines = admin.stderr.split('\n').filter(line => line.includes('too many membership handshakes'))
    assert.equal(lines.length, 1, `one log line for the flood, not one per stream:\n${lines.join('\n')}`)
    assert.match(lines[0] as string, new RegExp(flooder.node.peerId.toString()))
  })

  it('still answers another peer, and the flood added no trust', async () => {
    const other = await startInProcessNode(() => false)
    nodes.push(other)
    assert.equal(await hellos(other, 1), 1)
    const peers = await cliJson<PeerView[]>(admin.dataDir, ['peers'])
    for (const node of nodes) {
      const view = peers.find(peer => peer.peerId === node.node.peerId.toString())
      assert.ok(view != null, 'the peer is known')
      assert.deepEqual({ trusted: view.trusted, networks: view.networks }, { trusted: false, networks: [] })
    }
    assert.equal(admin.process.exitCode, null, 'the daemon is still running')
  })
})
