/**
 * WebRTC is loaded only when a direct path needs it: a daemon that has punched no hole
 * has not mapped @libp2p/webrtc's native library (node-datachannel), yet identify still
 * tells its peers that it answers WebRTC signalling, so a relayed peer can punch a hole
 * to it. The NAT lab (test/natlab/matrix.test.ts) covers the punch itself, which loads it.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { TestDaemon, waitFor } from '../helpers/daemon.ts'
import { startInProcessNode } from '../helpers/mesh-node.ts'
import { WEBRTC_SIGNALING_PROTOCOL } from '../../src/nat/lazy-webrtc.ts'
import type { InProcessNode } from '../helpers/mesh-node.ts'

async function mapsNativeWebRTC (pid: number): Promise<boolean> {
  return (await readFile(`/proc/${pid}/maps`, 'utf8')).includes('node_datachannel')
}

describe('WebRTC loaded on first use', { skip: process.platform !== 'linux' && 'reads /proc/<pid>/maps, which only Linux has' }, () => {
  let daemon: TestDaemon
  let peer: InProcessNode

  before(async () => {
    daemon = await TestDaemon.start()
    peer = await startInProcessNode(() => true)
  })

  after(async () => {
    await peer?.stop()
    await daemon?.destroy()
  })

  it('a started daemon answers WebRTC signalling without having loaded WebRTC', async () => {
    const { peerId, addresses } = await daemon.id()
    await peer.node.dial(multiaddr(addresses[0]!))
    const protocols = await waitFor('identify to report the daemon\'s protocols', async () => {
      const known = await peer.node.peerStore.get(peerIdFromString(peerId)).catch(() => undefined)
      return known != null && known.protocols.length > 0 ? known.protocols : undefined
    })
    assert.ok(protocols.includes(WEBRTC_SIGNALING_PROTOCOL), `identify lists ${WEBRTC_SIGNALING_PROTOCOL}: ${protocols.join(', ')}`)
    assert.equal(await mapsNativeWebRTC(daemon.pid), false, 'node-datachannel is not mapped into the daemon')
  })

  it('loads it when a peer opens the signalling protocol', async () => {
    const { peerId } = await daemon.id()
    // a signalling stream that sends nothing: the daemon loads the transport to answer it, then times it out
    const stream = await peer.node.dialProtocol(peerIdFromString(peerId), WEBRTC_SIGNALING_PROTOCOL)
    await waitFor('the daemon to map node-datachannel', async () => mapsNativeWebRTC(daemon.pid), 10_000)
    stream.abort(new Error('done'))
  })
})
