/**
 * A forward to a peer that does not speak the tunnel protocol (a mesh node with no
 * tunnel handler: an in-process libp2p node built by createMeshNode). The tunnel's
 * stream is selected optimistically, so the `na` comes back after the stream was
 * handed over: the local client must still get a prompt close and no bytes, the failure
 * must be counted and logged with the reason, and the peer connection must stay up.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { TestDaemon, waitFor } from '../helpers/daemon.ts'
import { startInProcessNode } from '../helpers/mesh-node.ts'
import { agentmesh, failureCount, forward, forwardView, trust } from '../helpers/services/mesh.ts'
import { watchEnding } from '../helpers/services/tcp.ts'
import type { InProcessNode } from '../helpers/mesh-node.ts'

const ATTEMPTS = 3

describe('a forward to a peer that does not speak the tunnel protocol', () => {
  let b: TestDaemon
  let inProcess: InProcessNode

  before(async () => {
    b = await TestDaemon.start()
    inProcess = await startInProcessNode(() => true)
  })

  after(async () => {
    await inProcess?.stop()
    await b?.destroy()
  })

  it('closes each local connection without a byte, counts it as reset with the reason, and keeps the peer connection', async () => {
    const peer = inProcess.node
    const peerId = peer.peerId.toString()
    await trust(b, peerId)
    await agentmesh(b, ['ping', peer.getMultiaddrs()[0]!.toString(), '--count', '1'])
    const fwd = await forward(b, peerId, 'web')
    for (let i = 0; i < ATTEMPTS; i++) {
      const ending = await watchEnding(fwd.port, Buffer.from('GET / HTTP/1.0\r\n\r\n'), 10_000)
      assert.notEqual(ending.how, 'timeout', 'the local connection is closed')
      assert.equal(ending.bytes, 0)
    }
    const view = await waitFor('B to count the failures', async () => {
      const entry = await forwardView(b, fwd.port)
      return failureCount(entry.failures) >= ATTEMPTS ? entry : undefined
    })
    assert.deepEqual(view.failures, { reset: ATTEMPTS })
    assert.match(b.stderr, /the peer does not speak \/agentmesh\/tunnel\/1\.0\.0/)
    assert.equal(peer.getConnections().filter(connection => connection.status === 'open').length, 1, 'one connection to B, still open')
  })
})
