/**
 * A peer cannot flood the log (issue 18, item 9): an untrusted peer's thousands of
 * tunnel streams, each reset, give a handful of warnings and then one line counting
 * the rest; another peer's warnings are still logged. Real daemon, real libp2p peers.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { TUNNEL_PROTOCOL } from '../../protocols/tunnel/index.ts'
import { TestDaemon, waitFor } from '../helpers/daemon.ts'
import { startInProcessNode } from '../helpers/mesh-node.ts'
import { forward, forwardView } from '../helpers/services/mesh.ts'
import { watchEnding } from '../helpers/services/tcp.ts'
import { within } from '../helpers/services/within.ts'
import type { InProcessNode } from '../helpers/mesh-node.ts'

const STREAMS = 2000
const BATCH = 100
const BURST = 5
const WINDOW_SECONDS = 2
const LOCAL = 300

interface Line { msg: string, peer?: string, suppressed?: number, kind?: string }

describe('log lines are limited per peer and kind', () => {
  let a: TestDaemon
  let address: string
  const peers: InProcessNode[] = []

  before(async () => {
    a = await TestDaemon.start({ env: { AGENTMESH_LOG_REPEAT_BURST: String(BURST), AGENTMESH_LOG_REPEAT_WINDOW_SECONDS: String(WINDOW_SECONDS) } })
    address = (await a.id()).addresses[0] as string
    peers.push(await startInProcessNode(() => false), await startInProcessNode(() => false))
  })

  after(async () => {
    await Promise.all(peers.map(async peer => peer.stop()))
    await a?.destroy()
  })

  function lines (peer: string): Line[] {
    return a.stderr.split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line) as Line).filter(line => line.peer === peer)
  }

  /** Opens `count` tunnel streams from `peer`, in batches; A resets each. */
  async function open (peer: InProcessNode, count: number): Promise<void> {
    for (let done = 0; done < count; done += BATCH) {
      await Promise.all(Array.from({ length: Math.min(BATCH, count - done) }, async () => {
        // A resets the stream at once: during the negotiation (a rejection) or after it
        const stream = await peer.node.dialProtocol(multiaddr(address), TUNNEL_PROTOCOL, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined)
        if (stream == null || stream.status !== 'open') return
        await within('the stream to be reset', 10_000, new Promise(resolve => { stream.addEventListener('close', resolve, { once: true }) }))
      }))
    }
  }

  it(`${STREAMS} streams from an untrusted peer give ${BURST} warnings per window and a count of the rest`, async () => {
    const flooder = peers[0]!.node.peerId.toString()
    const started = Date.now()
    await open(peers[0]!, STREAMS)
    const floodMs = Date.now() - started
    const warnings = (): Line[] => lines(flooder).filter(line => line.msg.startsWith('tunnel from an untrusted peer'))
    const suppressed = (): number => lines(flooder).reduce((sum, line) => sum + (line.suppressed ?? 0), 0)
    // every stream is either logged or counted, once its window has ended
    await waitFor('the lines counting the suppressed warnings', async () => warnings().length + suppressed() === STREAMS, WINDOW_SECONDS * 1000 + 10_000)
    const windows = 1 + Math.floor(floodMs / (WINDOW_SECONDS * 1000))
    assert.ok(warnings().length <= BURST * windows, `${warnings().length} warnings for ${windows} window(s) of ${WINDOW_SECONDS} s`)
    assert.ok(suppressed() >= STREAMS - BURST * windows, `${suppressed()} counted as suppressed`)
    assert.match(lines(flooder).find(line => line.suppressed != null)!.msg, /suppressed/)
    assert.ok(a.stderr.length < 64 * 1024, `the log stays small (${a.stderr.length} bytes)`)
  })

  it('another peer\'s first warnings are still logged', async () => {
    const other = peers[1]!.node.peerId.toString()
    await open(peers[1]!, 2)
    await waitFor('the other peer\'s warnings', async () => lines(other).filter(line => line.msg.startsWith('tunnel from an untrusted peer')).length === 2, 10_000)
    assert.equal(a.process.exitCode, null, 'the daemon is still running')
  })

  it(`${LOCAL} local connections to a forward that fails each give ${BURST} warnings per window and a count of the rest`, async () => {
    // a forward to a peer this node does not trust: every connection is refused `denied` at once
    const stranger = peers[1]!.node.peerId.toString()
    const fwd = await forward(a, stranger, 'svc')
    const started = Date.now()
    for (let done = 0; done < LOCAL; done += BATCH) {
      await Promise.all(Array.from({ length: Math.min(BATCH, LOCAL - done) }, async () => watchEnding(fwd.port, Buffer.from('x'), 10_000)))
    }
    const floodMs = Date.now() - started
    const mine = (): Line[] => a.stderr.split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line) as Line & { listen?: string })
      .filter(line => line.listen === fwd.listen)
    const warnings = (): Line[] => mine().filter(line => line.msg.startsWith('forwarded connection closed'))
    const suppressed = (): number => mine().reduce((sum, line) => sum + (line.suppressed ?? 0), 0)
    await waitFor('every refusal to be logged or counted', async () => warnings().length + suppressed() === LOCAL, WINDOW_SECONDS * 1000 + 10_000)
    const windows = 1 + Math.floor(floodMs / (WINDOW_SECONDS * 1000))
    assert.ok(warnings().length <= BURST * windows, `${warnings().length} warnings for ${windows} window(s)`)
    assert.equal((await forwardView(a, fwd.port)).failures.denied, LOCAL, 'every refusal is still counted on the forward')
  })
})
