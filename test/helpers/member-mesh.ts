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
import { DaemonHost } from './daemon-host.ts'
import { startEchoServer } from './services/tcp.ts'
import type { TcpService } from './services/tcp.ts'

export interface MeshMember {
  name: string
  dataDir: string
  api: ControlClient
  /** host:port of its Prometheus metrics */
  metrics: string
  peerId: string
  /** the stderr of its process (shared with the other daemons of a host) */
  logs(): string
}

/** A process running one daemon or several (a DaemonHost). */
interface MeshProcess {
  destroy(): Promise<void>
}

export interface MemberMesh {
  members: MeshMember[]
  /** stops every process by pid and the service */
  stop(): Promise<void>
}

export interface MeshOptions {
  /** processes started at once */
  startConcurrency: number
  /** daemons per process after the first member (test/helpers/daemon-host.ts); 1 runs each as `agentmesh start` */
  perProcess?: number
  /** how long every member may take to publish its record */
  publishTimeoutMs: number
  /** hears of each process as it starts (a benchmark stops them if it is interrupted) */
  track?: (process: MeshProcess) => void
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
 * Starts `size` daemons, makes them members of one network, each publishing
 * `svc-<name>`. The first member (the network's admin and everyone's bootstrap) is
 * always `agentmesh start` in a process of its own.
 */
export async function startMemberMesh (size: number, { startConcurrency, perProcess = 1, publishTimeoutMs, track }: MeshOptions): Promise<MemberMesh> {
  const members: MeshMember[] = []
  const processes: MeshProcess[] = []
  const echo: TcpService = await startEchoServer()
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map(async process => process.destroy()))
    await echo.close()
  }
  const started = (process: MeshProcess): void => {
    processes.push(process)
    track?.(process)
  }
  const join = async (name: string, dataDir: string, metrics: string, logs: () => string): Promise<MeshMember> => {
    const api = new ControlClient(resolveDataDir(dataDir, {}))
    const member = { name, dataDir, api, metrics, peerId: (await api.id()).peerId, logs }
    members.push(member)
    return member
  }
  const startOwnProcess = async (name: string, bootstrap: string[]): Promise<MeshMember> => {
    const metrics = `127.0.0.1:${await freePort()}`
    const daemon = await TestDaemon.start({ bootstrap, args: ['--metrics', metrics] })
    started(daemon)
    return join(name, daemon.dataDir, metrics, () => daemon.stderr)
  }
  const startProcess = async (names: string[], bootstrap: string[]): Promise<void> => {
    if (perProcess === 1) {
      await startOwnProcess(names[0] as string, bootstrap)
      return
    }
    const metrics = await Promise.all(names.map(async () => `127.0.0.1:${await freePort()}`))
    const host = await DaemonHost.start({ count: names.length, bootstrap, metrics, startTimeoutMs: 20_000 * names.length })
    started(host)
    for (const [index, name] of names.entries()) await join(name, host.dataDirs[index] as string, metrics[index] as string, () => host.stderr)
  }
  try {
    const admin = await startOwnProcess('m0', [])
    const bootstrap = (await admin.api.id()).addresses
    const batches: string[][] = []
    for (let i = 1; i < size; i += perProcess) batches.push(Array.from({ length: Math.min(perProcess, size - i) }, (_, k) => `m${i + k}`))
    for (let i = 0; i < batches.length; i += startConcurrency) {
      await Promise.all(batches.slice(i, i + startConcurrency).map(async names => startProcess(names, bootstrap)))
    }
    members.sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)))
    await admin.api.createNetwork('fleet', admin.name)
    for (const member of members.slice(1)) {
      const { token } = await admin.api.invite({ peerId: member.peerId, name: member.name })
      await member.api.join(token)
    }
    for (const member of members) await member.api.expose({ name: `svc-${member.name}`, target: echo.target, publish: true })
    await waitFor('every member to publish its record with its service', async () => {
      const waiting = members.filter(member => !member.logs().includes(`"services":["svc-${member.name}"]`))
      if (waiting.length > 0) throw new Error(`not yet published: ${waiting.map(member => member.name).join(' ')}`)
      return true
    }, publishTimeoutMs, 500)
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
        const found = await resolver.api.resolve(target.name)
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
