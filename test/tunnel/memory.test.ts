/**
 * A memory budget for tunnel buffers (issue 18, item 3): clients pushing into a service
 * that never reads make the exposing daemon buffer at most `tunnels.maxBufferedBytes`
 * (its RSS stays near idle + budget), refusing or resetting the newest tunnels past it,
 * and it serves new tunnels again once they are gone. Real daemons, real TCP.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { cliJson, waitFor } from '../helpers/daemon.ts'
import { KiB, MiB, deterministicChunks } from '../helpers/services/data.ts'
import { expose, failureCount, forward, forwardView, serviceView, startTrustedPair } from '../helpers/services/mesh.ts'
import { RssSampler, rssBytes } from '../helpers/services/rss.ts'
import { connectTcp, roundTrip, startEchoServer, startTcpServer, writeChunks } from '../helpers/services/tcp.ts'
import type { Pair } from '../helpers/services/mesh.ts'
import type { TcpService } from '../helpers/services/tcp.ts'
import type { Socket } from 'node:net'

/** below what 60 tunnels hold at their smallest yamux window (60 x 256 KiB), so the budget must refuse or reset some */
const BUDGET = 8 * MiB
const TUNNELS = 60
/** V8 and allocator overhead above the buffered bytes themselves (without the budget, 60 such tunnels add about 190 MiB) */
const SLACK = 40 * MiB
const STALLED_SECONDS = 5

describe('tunnel memory budget', () => {
  let pair: Pair
  let sink: TcpService
  let echo: TcpService
  const clients: Socket[] = []

  before(async () => {
    // a service that reads nothing
    sink = await startTcpServer(() => {})
    echo = await startEchoServer()
    const env = { AGENTMESH_TUNNELS_MAX_BUFFERED_BYTES: String(BUDGET), AGENTMESH_TUNNELS_MAX_BUFFERED_BYTES_PER_PEER: String(BUDGET), AGENTMESH_TUNNELS_STALLED_SECONDS: String(STALLED_SECONDS) }
    pair = await startTrustedPair({ a: { env }, b: { env } })
    await expose(pair.a, 'sink', sink.target)
    await expose(pair.a, 'echo', echo.target)
  })

  after(async () => {
    for (const client of clients) client.destroy()
    await Promise.all([pair?.a.destroy(), pair?.b.destroy(), sink?.close(), echo?.close()])
  })

  it(`${TUNNELS} tunnels pushing into a service that never reads: A stays within idle RSS + budget + slack`, async t => {
    const fwd = await forward(pair.b, pair.aId, 'sink')
    const idle = await rssBytes(pair.a.pid)
    const sampler = new RssSampler([pair.a.pid], 100)
    for (let i = 0; i < TUNNELS; i++) {
      const client = await connectTcp(fwd.port)
      client.on('error', () => {})
      clients.push(client)
      writeChunks(client, deterministicChunks(`push ${i}`, 64 * MiB, 64 * KiB), { end: false }).catch(() => {})
      await sleep(50)
    }
    // until A takes no more bytes
    await waitFor('A to stop taking bytes', async () => {
      const before = (await serviceView(pair.a, 'sink')).bytesIn
      await sleep(500)
      return (await serviceView(pair.a, 'sink')).bytesIn === before
    }, 30_000, 100)
    const peak = sampler.stop().get(pair.a.pid) ?? 0
    const view = await forwardView(pair.b, fwd.port)
    t.diagnostic(`A: idle ${(idle / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB; forward failures ${JSON.stringify(view.failures)}, active ${view.active}`)
    assert.ok(peak < idle + BUDGET + SLACK, `A's peak RSS ${(peak / MiB).toFixed(1)} MiB, idle ${(idle / MiB).toFixed(1)} MiB, budget ${BUDGET / MiB} MiB`)
    assert.ok(failureCount(view.failures) > 0, 'the newest tunnels were refused or reset')
    const usage = (await cliJson(pair.a.dataDir, ['status'])).tunnelBuffers
    assert.equal(usage.budgetBytes, BUDGET, '`status` shows the budget')
    assert.ok(usage.peakBytes > 0, '`status` shows the peak of buffered bytes')
    assert.equal(pair.a.process.exitCode, null)
  })

  it('serves new tunnels again once the buffers are gone', async () => {
    for (const client of clients.splice(0)) client.destroy()
    await waitFor('the pushed tunnels to close', async () => (await serviceView(pair.a, 'sink')).active === 0, 5_000, 100)
    const fwd = await forward(pair.b, pair.aId, 'echo')
    assert.equal((await roundTrip(fwd.port, Buffer.from('still here\n'))).toString(), 'still here\n')
  })
})
