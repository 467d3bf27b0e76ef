/**
 * Prometheus metrics: two daemons with `--metrics`, a forward that carries exactly
 * 8 MiB from a TCP service, `promtool check metrics` on what each serves, and a real
 * Prometheus scraping both every second whose PromQL answers the tunnel's bytes.
 */

import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { cli, freePort, tempDir, waitFor } from '../helpers/daemon.ts'
import { MiB, deterministicChunks, deterministicSha256 } from '../helpers/services/data.ts'
import { expose, forward, startTrustedPair } from '../helpers/services/mesh.ts'
import { run } from '../helpers/services/process.ts'
import { startPrometheus } from '../helpers/services/prometheus.ts'
import { connectTcp, digestUntilEnd, startTcpServer, writeChunks } from '../helpers/services/tcp.ts'
import { missingTool } from '../helpers/services/tools.ts'
import type { Pair } from '../helpers/services/mesh.ts'
import type { Prometheus } from '../helpers/services/prometheus.ts'
import type { TcpService } from '../helpers/services/tcp.ts'

const CARRIED = 8 * MiB
const SEED = 'agentmesh metrics'
const skip = missingTool('promtool', 'prometheus') || missingTool('prometheus', 'prometheus')

async function scrape (address: string): Promise<string> {
  const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(5_000) })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return res.text()
}

/** The value of one sample line `name{labels} value`, labels in any order. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match?.[1] !== name) continue
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]))
    if (Object.entries(labels).every(([key, value]) => have[key] === value)) return Number(match[3])
  }
  return undefined
}

describe('Prometheus metrics', { skip }, () => {
  let pair: Pair | undefined
  let bulk: TcpService | undefined
  let prometheus: Prometheus | undefined
  let aMetrics: string, bMetrics: string

  before(async () => {
    aMetrics = `127.0.0.1:${await freePort()}`
    bMetrics = `127.0.0.1:${await freePort()}`
    pair = await startTrustedPair({ a: { args: ['--metrics', aMetrics] }, b: { args: ['--metrics', bMetrics] } })
    bulk = await startTcpServer(socket => { void writeChunks(socket, deterministicChunks(SEED, CARRIED)) })
    await expose(pair.a, 'bulk', bulk.target)
  })

  after(async () => {
    await Promise.all([pair?.a.destroy(), pair?.b.destroy(), bulk?.close(), prometheus?.stop()])
  })

  it('a busy --metrics address stops the start with a one-line error', async () => {
    const dataDir = await tempDir()
    try {
      const result = await cli(['start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--metrics', aMetrics])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /^agentmesh start: cannot serve metrics on 127\.0\.0\.1:\d+: EADDRINUSE \(metrics\.listen, --metrics\)$/m)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('a bad --metrics address is refused with the key and what is allowed', async () => {
    const result = await cli(['start', '--data-dir', '/nonexistent/agentmesh', '--metrics', 'nine'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /metrics\.listen = "nine" \(from command-line flags\): expected host:port/)
  })

  it('8 MiB through a forward shows up in both daemons\' metrics, and promtool accepts them', async () => {
    const fwd = await forward(pair!.b, pair!.aId, 'bulk')
    const socket = await connectTcp(fwd.port)
    const digest = await digestUntilEnd(socket, 30_000)
    socket.destroy()
    assert.equal(digest.bytes, CARRIED)
    assert.equal(digest.hex(), deterministicSha256(SEED, CARRIED))
    const b = await waitFor('B to count the tunnel as ended', async () => {
      const text = await scrape(bMetrics)
      return sample(text, 'agentmesh_tunnels_total', { service: 'bulk', direction: 'outbound', status: 'ok' }) === 1 ? text : undefined
    })
    assert.equal(sample(b, 'agentmesh_tunnel_receive_bytes_total', { service: 'bulk', direction: 'outbound' }), CARRIED)
    assert.equal(sample(b, 'agentmesh_tunnels_active', { service: 'bulk', direction: 'outbound' }), 0)
    assert.equal(sample(b, 'agentmesh_tunnel_first_byte_seconds_count', { service: 'bulk' }), 1)
    assert.equal(sample(b, 'agentmesh_peers', { path: 'direct', transport: 'tcp' }), 1)
    assert.match(b, /^libp2p_connection_manager_connections\{/m, 'libp2p\'s own metrics are there')
    assert.doesNotMatch(b, /peer_?id|12D3KooW/i, 'no label carries a peer id')
    const a = await scrape(aMetrics)
    assert.equal(sample(a, 'agentmesh_tunnel_transmit_bytes_total', { service: 'bulk', direction: 'inbound' }), CARRIED)
    for (const [name, text] of [['A', a], ['B', b]]) {
      const result = await run('promtool', ['check', 'metrics'], { timeoutMs: 10_000, input: text })
      assert.equal(result.code, 0, `promtool check metrics on ${name}'s metrics: ${result.stdout}${result.stderr}`)
    }
  })

  it('a real Prometheus scraping both daemons answers the tunnel\'s bytes in PromQL', async () => {
    prometheus = await startPrometheus([aMetrics, bMetrics], 1)
    const received = await waitFor('PromQL to return the forward\'s bytes', async () => {
      const [result] = await prometheus!.query('sum by (service) (agentmesh_tunnel_receive_bytes_total{direction="outbound"})')
      return result?.metric.service === 'bulk' ? Number(result.value[1]) : undefined
    }, 30_000, 500)
    assert.equal(received, CARRIED)
    // A is scraped on its own schedule
    const sent = await waitFor('PromQL to return the exposing side\'s bytes', async () => {
      const [result] = await prometheus!.query('agentmesh_tunnel_transmit_bytes_total{service="bulk",direction="inbound"}')
      return result == null ? undefined : Number(result.value[1])
    }, 30_000, 500)
    assert.equal(sent, CARRIED)
    const targets = await prometheus.targets()
    assert.deepEqual(targets.map(target => target.health), ['up', 'up'], JSON.stringify(targets))
  })
})
