/**
 * A mesh of N member daemons on loopback, each publishing one service, and a round of
 * lookups in which every node resolves every other member's name through the DHT: the
 * mesh test (test/records/mesh20.test.ts) and the resolve benchmark (bench/resolve.ts).
 *
 * Built in the order a user can act (daemons start, ids are read, invites, joins,
 * exposes); with tens of daemons, setup goes through the control API, which the CLI is
 * a thin client of: a CLI process per call would cost more CPU than the lookups. DHT
 * messages are counted with kad-dht's own counter of outbound requests
 * (`libp2p_kad_dht_outbound_rpc_requests_total`, all kinds) on each resolving node.
 */
import { resolveDataDir } from '../../src/config/data-dir.ts'
import { ControlClient } from '../../src/control/client.ts'
import { freePort, TestDaemon, waitFor } from './daemon.ts'
import { startEchoServer } from './services/tcp.ts'
import type { TcpService } from './services/tcp.ts'

export interface MeshMember {
  name: string
  daemon: TestDaemon
  api: ControlClient
  /** host:port of its Prometheus metrics */
  metrics: string
  peerId: string
}

export interface MemberMesh {
  members: MeshMember[]
  /** stops every daemon by pid and the service */
  stop(): Promise<void>
}

export interface LookupRound {
  lookups: number
  failures: string[]
  /** each successful lookup's time, ascending, in ms */
  times: number[]
  requestsPerLookup: number
  seconds: number
}

/**
 * Starts `size` daemons (`startConcurrency` at a time), makes them members of one
 * network, each publishing `svc-<name>`. `track` hears of each daemon as it starts (a
 * benchmark stops them if it is interrupted).
 */
export async function startMemberMesh (size: number, startConcurrency: number, publishTimeoutMs: number, track?: (daemon: TestDaemon) => void): Promise<MemberMesh> {
  const members: MeshMember[] = []
  const echo: TcpService = await startEchoServer()
  const stop = async (): Promise<void> => {
    await Promise.all(members.map(async member => member.daemon.destroy()))
    await echo.close()
  }
  const start = async (name: string, bootstrap: string[]): Promise<MeshMember> => {
    const metrics = `127.0.0.1:${await freePort()}`
    const daemon = await TestDaemon.start({ bootstrap, args: ['--metrics', metrics] })
    track?.(daemon)
    const api = new ControlClient(resolveDataDir(daemon.dataDir, {}))
    const member = { name, daemon, api, metrics, peerId: (await api.get<{ peerId: string }>('/id')).peerId }
    members.push(member)
    return member
  }
  try {
    const admin = await start('m0', [])
    const bootstrap = (await admin.api.get<{ addresses: string[] }>('/id')).addresses
    for (let i = 1; i < size; i += startConcurrency) {
      await Promise.all(Array.from({ length: Math.min(startConcurrency, size - i) }, async (_, k) => start(`m${i + k}`, bootstrap)))
    }
    await admin.api.post('/networks', { name: 'fleet', memberName: admin.name })
    for (const member of members.slice(1)) {
      const { token } = await admin.api.post<{ token: string }>('/invites', { peerId: member.peerId, name: member.name })
      await member.api.post('/join', { token })
    }
    for (const member of members) await member.api.post('/services', { name: `svc-${member.name}`, target: echo.target, publish: true })
    await waitFor('every member to publish its record with its service', async () =>
      members.every(member => member.daemon.stderr.includes(`"services":["svc-${member.name}"]`)) || undefined, publishTimeoutMs, 500)
    return { members, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

async function dhtRequests (member: MeshMember): Promise<number> {
  const text = await (await fetch(`http://${member.metrics}/metrics`)).text()
  return [...text.matchAll(/^libp2p_kad_dht_outbound_rpc_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
}

/**
 * Every member resolves every other one (or the next `perMember` after it, round the
 * ring), `concurrency` resolving members at a time; a lookup counts when it finds the
 * member's current record through the DHT (not a cache).
 */
export async function resolveAll (members: MeshMember[], concurrency: number, perMember = members.length - 1): Promise<LookupRound> {
  const before = await Promise.all(members.map(dhtRequests))
  const times: number[] = []
  const failures: string[] = []
  const started = Date.now()
  const queue = [...members]
  const resolveEach = async (resolver: MeshMember): Promise<void> => {
    const at = members.indexOf(resolver)
    for (let step = 1; step <= perMember; step++) {
      const target = members[(at + step) % members.length] as MeshMember
      const startedAt = performance.now()
      try {
        const found = await resolver.api.get<{ peerId: string, source: string, services: Array<{ name: string }> }>(`/resolve?name=${target.name}`)
        times.push(performance.now() - startedAt)
        if (found.peerId !== target.peerId || found.source !== 'dht' || found.services[0]?.name !== `svc-${target.name}`) failures.push(`${resolver.name} -> ${target.name}: ${JSON.stringify(found)}`)
      } catch (err: any) {
        failures.push(`${resolver.name} -> ${target.name}: ${err.message}`)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let resolver = queue.shift(); resolver != null; resolver = queue.shift()) await resolveEach(resolver)
  }))
  const after = await Promise.all(members.map(dhtRequests))
  const lookups = members.length * perMember
  return {
    lookups,
    failures,
    times: times.sort((a, b) => a - b),
    requestsPerLookup: after.reduce((sum, count, index) => sum + count - (before[index] as number), 0) / lookups,
    seconds: (Date.now() - started) / 1000
  }
}

export function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN
}
