/**
 * A mesh of 20 member nodes on loopback: every node resolves every other member's name
 * through the DHT (380 first lookups, none from a cache). Reported: the success rate
 * (goal 100%), p50 and p99 resolve time, and the DHT messages per lookup, counted with
 * kad-dht's own Prometheus counter of outbound requests on each resolving node
 * (`libp2p_kad_dht_outbound_rpc_requests_total`, all kinds, before and after the lookups).
 *
 * Built in the order a user can act (daemons start, ids are read, invites, joins,
 * exposes). With 20 daemons, setup goes through the control API, which the CLI is a thin
 * client of: a CLI process per call would cost more CPU than this 2-core machine can
 * spare. Every daemon is stopped by pid.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { resolveDataDir } from '../../src/config/data-dir.ts'
import { ControlClient } from '../../src/control/client.ts'
import { freePort, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { startEchoServer } from '../helpers/services/tcp.ts'
import type { TcpService } from '../helpers/services/tcp.ts'

const NODES = 20
/** daemons started at once: each start is CPU-bound for a second or two */
const START_CONCURRENCY = 4
/**
 * Lookups in flight at once, each from another node: 20 at once would measure this
 * 2-core machine's CPU queue (about 3 s a lookup), not the lookup.
 */
const LOOKUP_CONCURRENCY = 4

interface Node { name: string, daemon: TestDaemon, api: ControlClient, metrics: string, peerId: string }

async function dhtRequests (node: Node): Promise<number> {
  const text = await (await fetch(`http://${node.metrics}/metrics`)).text()
  return [...text.matchAll(/^libp2p_kad_dht_outbound_rpc_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number
}

describe(`a mesh of ${NODES} members resolves every name through the DHT`, () => {
  const nodes: Node[] = []
  let echo: TcpService

  async function start (name: string, bootstrap: string[]): Promise<Node> {
    const metrics = `127.0.0.1:${await freePort()}`
    const daemon = await TestDaemon.start({ bootstrap, args: ['--metrics', metrics] })
    const api = new ControlClient(resolveDataDir(daemon.dataDir, {}))
    return { name, daemon, api, metrics, peerId: (await api.get<{ peerId: string }>('/id')).peerId }
  }

  before(async () => {
    echo = await startEchoServer()
    const admin = await start('m0', [])
    nodes.push(admin)
    const bootstrap = (await admin.api.get<{ addresses: string[] }>('/id')).addresses
    for (let i = 1; i < NODES; i += START_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(START_CONCURRENCY, NODES - i) }, (_, k) => `m${i + k}`)
      nodes.push(...await Promise.all(batch.map(async name => start(name, bootstrap))))
    }
    await admin.api.post('/networks', { name: 'fleet', memberName: admin.name })
    for (const node of nodes.slice(1)) {
      const { token } = await admin.api.post<{ token: string }>('/invites', { peerId: node.peerId, name: node.name })
      await node.api.post('/join', { token })
    }
    for (const node of nodes) await node.api.post('/services', { name: `svc-${node.name}`, target: echo.target, publish: true })
    await waitFor('every member to publish its record with its service', async () =>
      nodes.every(node => node.daemon.stderr.includes(`"services":["svc-${node.name}"]`)) || undefined, 90_000, 500)
  })

  after(async () => {
    await Promise.all(nodes.map(async node => node.daemon.destroy()))
    await echo?.close()
  })

  it('every node resolves every other member, first time through the DHT', async () => {
    const before = await Promise.all(nodes.map(dhtRequests))
    const times: number[] = []
    const failures: string[] = []
    const started = Date.now()
    const queue = [...nodes]
    const resolveAll = async (resolver: Node): Promise<void> => {
      for (const target of nodes) {
        if (target === resolver) continue
        const at = performance.now()
        try {
          const found = await resolver.api.get<{ peerId: string, source: string, services: Array<{ name: string }> }>(`/resolve?name=${target.name}`)
          times.push(performance.now() - at)
          if (found.peerId !== target.peerId || found.source !== 'dht' || found.services[0]?.name !== `svc-${target.name}`) failures.push(`${resolver.name} -> ${target.name}: ${JSON.stringify(found)}`)
        } catch (err: any) {
          failures.push(`${resolver.name} -> ${target.name}: ${err.message}`)
        }
      }
    }
    await Promise.all(Array.from({ length: LOOKUP_CONCURRENCY }, async () => {
      for (let resolver = queue.shift(); resolver != null; resolver = queue.shift()) await resolveAll(resolver)
    }))
    const after = await Promise.all(nodes.map(dhtRequests))
    const lookups = NODES * (NODES - 1)
    const messages = after.reduce((sum, count, index) => sum + count - (before[index] as number), 0)
    const sorted = [...times].sort((a, b) => a - b)
    const line = `# mesh of ${NODES}: ${lookups - failures.length}/${lookups} resolved (${(100 * (lookups - failures.length) / lookups).toFixed(1)}%), ` +
      `p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms, ` +
      `${(messages / lookups).toFixed(1)} DHT requests per lookup (all kinds, the resolving nodes' own), ${LOOKUP_CONCURRENCY} lookups at a time, ${((Date.now() - started) / 1000).toFixed(1)} s in all\n`
    process.stdout.write(line)
    assert.deepEqual(failures, [], 'every lookup finds the member\'s current record')
  })
})
