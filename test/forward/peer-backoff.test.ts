/**
 * Forward targets that could not be reached (src/forward/peer-backoff.ts): re-dialled in
 * the background, 1 s after the failure and then at doubling intervals, until a dial
 * succeeds; meanwhile the peer counts as down. Real libp2p nodes in this process: the
 * peer is stopped, then started again with the same key on a new port that its dialler
 * learns, as it would through the DHT.
 */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pino } from 'pino'
import { PeerBackoff } from '../../src/forward/peer-backoff.ts'
import { waitFor } from '../helpers/daemon.ts'
import { startInProcessNode } from '../helpers/mesh-node.ts'
import type { InProcessNode } from '../helpers/mesh-node.ts'
import type { Logger } from '../../src/log/logger.ts'
import type { PeerId } from '@libp2p/interface'

const trustNobody = (): boolean => false
/** how long a dial of the stopped peer (a refused TCP connection on 127.0.0.1) may take */
const DIAL_TIMEOUT_MS = 2_000

interface LogLine { level: number, msg: string, peer?: string }

/** A real logger whose lines the test reads. */
function recordingLog (): { log: Logger, lines: LogLine[] } {
  const lines: LogLine[] = []
  return { log: pino({ level: 'info' }, { write: line => { lines.push(JSON.parse(line)) } }), lines }
}

describe('peer backoff', () => {
  const nodes: InProcessNode[] = []
  let dialler: InProcessNode
  /** when each dial of the backoff started, and of which peer */
  const attempts: Array<{ at: number, peer: string }> = []

  /** A backoff that dials with the dialler node, as the forward manager's does. */
  function peerBackoff (log: Logger): PeerBackoff {
    return new PeerBackoff({
      dial: async target => {
        attempts.push({ at: performance.now(), peer: target.toString() })
        return dialler.node.dial(target, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      },
      log
    })
  }

  /** A peer the dialler knows the address of, but which is down: its key, to start it again. */
  async function stoppedPeer (): Promise<{ peer: PeerId, key: Awaited<ReturnType<typeof generateKeyPair>> }> {
    const key = await generateKeyPair('Ed25519')
    const first = await startInProcessNode(trustNobody, key)
    await dialler.node.peerStore.merge(first.node.peerId, { multiaddrs: first.node.getMultiaddrs() })
    await first.stop()
    return { peer: first.node.peerId, key }
  }

  before(async () => {
    dialler = await startInProcessNode(trustNobody)
    nodes.push(dialler)
  })

  after(async () => { await Promise.all(nodes.map(async node => node.stop())) })

  it('re-dials a peer that could not be reached after 1 s, then 2 s later, and counts it reachable once a dial succeeds', async () => {
    const { peer, key } = await stoppedPeer()
    const { log, lines } = recordingLog()
    const backoff = peerBackoff(log)
    const failedAt = performance.now()
    backoff.failed(peer)
    backoff.failed(peer)
    assert.equal(backoff.isDown(peer), true)
    assert.equal(lines.filter(line => line.msg.startsWith('peer unreachable')).length, 1, 'a second failure while down is not logged again')

    await waitFor('the first re-dial', async () => attempts.length >= 1, 3_000, 50)
    const first = (attempts[0]?.at ?? 0) - failedAt
    assert.ok(first >= 950, `the first re-dial comes 1 s after the failure (${Math.round(first)} ms)`)
    const back = await startInProcessNode(trustNobody, key)
    nodes.push(back)
    await dialler.node.peerStore.merge(peer, { multiaddrs: back.node.getMultiaddrs() })

    await waitFor('the peer to count as reachable again', async () => !backoff.isDown(peer), 3_000 + DIAL_TIMEOUT_MS, 50)
    assert.deepEqual(attempts.map(attempt => attempt.peer), [peer.toString(), peer.toString()], 'the second re-dial reaches the peer')
    const second = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)
    assert.ok(second >= 1950, `the second re-dial comes 2 s after the first (${Math.round(second)} ms)`)
    assert.ok(dialler.node.getConnections(peer).length > 0, 'the dialler is connected to the peer')
    assert.deepEqual(lines.filter(line => line.msg === 'peer reachable again').map(line => line.peer), [peer.toString()])
    backoff.stop()
  })

  it('forgets a peer that answered on its own, and leaves no re-dial after stop()', async () => {
    attempts.length = 0
    const [answered, waiting] = await Promise.all([stoppedPeer(), stoppedPeer()])
    const backoff = peerBackoff(recordingLog().log)
    backoff.failed(answered.peer)
    backoff.failed(waiting.peer)
    // a tunnel to it went through, as the forward manager reports
    backoff.succeeded(answered.peer)
    assert.equal(backoff.isDown(answered.peer), false)
    assert.equal(backoff.isDown(waiting.peer), true)
    backoff.stop()
    assert.equal(backoff.isDown(waiting.peer), false)
    await sleep(1_300)
    assert.deepEqual(attempts, [], 'no re-dial once the peer answered or the backoff stopped')
  })
})
