/**
 * Memory, `npm run bench -- memory` (RSS from /proc/<pid>/status, the median of a few
 * readings once the daemons have settled):
 *
 * - start-up time of a daemon (spawn to its "is up" line) and the RSS of an idle one, split
 *   into anonymous and file-backed pages, with its V8 heap by constructor
 *   (bench/results/heap-idle.md);
 * - RSS of both daemons of a pair with 0, 100 and 1,000 idle tunnelled connections
 *   (each has exchanged one byte with an echo service, so the tunnel is open at both
 *   ends), KiB per tunnel for both daemons together; a second pair, whose daemons take
 *   V8 heap snapshots on SIGUSR2, gives the heap objects per tunnel
 *   (bench/results/heap-tunnels.md);
 * - RSS of a daemon with 100 connected peers (in-process libp2p nodes speaking the mesh's
 *   protocols, `lib/peer-swarm.ts`) against the same daemon idle.
 */

import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { tempDir, waitFor } from '../test/helpers/daemon.ts'
import { rssPartsKiB } from '../test/helpers/services/rss.ts'
import { startEchoServer } from '../test/helpers/services/tcp.ts'
import { censusDelta, heapSnapshotOptions, takeHeapCensus } from './lib/heap-snapshot.ts'
import { fileHeader, runPart, writeResult } from './lib/part.ts'
import { connectedPeers, control, daemon, DAEMON_ARGS, meshPair, progress, settledRssKiB, stopChild } from './lib/setup.ts'
import { median, round } from './lib/stats.ts'
import type { CensusDelta, HeapCensus } from './lib/heap-snapshot.ts'
import type { Target } from './lib/part.ts'
import type { MeshPair, Scope } from './lib/setup.ts'
import type { Socket } from 'node:net'
import type { TestDaemon } from '../test/helpers/daemon.ts'

const STARTUP_RUNS = 3
const TUNNEL_STAGES = [100, 1_000]
/** connections being opened at once */
const OPEN_CONCURRENCY = 25
const PEERS = 100
/** under the daemon's default of 64 inbound connections per second per host */
const PEER_DIALS_PER_SECOND = 25
const CLI = join(import.meta.dirname, '..', 'src', 'cli', 'agentmesh.js')

/** Milliseconds from spawning `agentmesh start` to its "is up" line. */
async function startupMs (): Promise<number> {
  const dataDir = await tempDir()
  const started = performance.now()
  const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', ...DAEMON_ARGS], { stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    return await new Promise<number>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => { reject(new Error('no start within 30 s')) }, 30_000)
      child.stdout.on('data', chunk => {
        out += chunk
        if (out.includes(' is up ')) {
          clearTimeout(timer)
          resolve(performance.now() - started)
        }
      })
    })
  } finally {
    await stopChild(child, 10_000)
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** Opens `count` connections to 127.0.0.1:port, each exchanging one byte, and keeps them open in `into`. */
async function openIdle (port: number, count: number, into: Socket[]): Promise<void> {
  let next = 0
  const one = async (): Promise<void> => new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => { socket.write('x') })
    socket.setTimeout(20_000, () => { socket.destroy(new Error('no echo within 20 s')) })
    socket.once('error', reject)
    socket.once('data', () => {
      socket.setTimeout(0)
      socket.on('error', () => {})
      into.push(socket)
      resolve()
    })
  })
  await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, async () => {
    while (next < count) {
      next++
      await one()
    }
  }))
}

/** Waits until both ends of the pair count `count` open tunnels (`agentmesh forwards` and `services`, through the control API). */
async function tunnelsOpen (pair: MeshPair, port: number, count: number): Promise<void> {
  await waitFor(`${count} open tunnels`, async () => {
    const forward = (await control(pair.b).forwards()).find(view => view.listen.endsWith(`:${port}`))
    const service = (await control(pair.a).services()).find(view => view.name === 'echo')
    return forward?.active === count && service?.active === count
  }, 30_000, 100)
}

function closeAll (sockets: Socket[]): void {
  for (const socket of sockets.splice(0)) socket.destroy()
}

/** A daemon pair forwarding to the echo service, warmed up: a few tunnels opened and closed, so that the 0-tunnel reading has run the code paths. */
async function warmPair (scope: Scope, echoTarget: string, env?: NodeJS.ProcessEnv): Promise<{ pair: MeshPair, port: number, sockets: Socket[] }> {
  const pair = await meshPair(scope, { env })
  const port = await pair.tunnel('echo', echoTarget)
  const sockets: Socket[] = []
  scope.defer(() => { closeAll(sockets) })
  await openIdle(port, 5, sockets)
  closeAll(sockets)
  await tunnelsOpen(pair, port, 0)
  return { pair, port, sockets }
}

async function tunnelMemory (scope: Scope, echoTarget: string): Promise<Record<string, unknown>> {
  const { pair, port, sockets } = await warmPair(scope, echoTarget)
  const stages: Array<{ tunnels: number, rssKiB: { a: number, b: number } }> = []
  const measure = async (tunnels: number): Promise<void> => {
    const [a, b] = await settledRssKiB([pair.a.pid, pair.b.pid])
    stages.push({ tunnels, rssKiB: { a: a as number, b: b as number } })
    progress('memory', `${tunnels} tunnels: RSS A ${a} KiB, B ${b} KiB`)
  }
  await measure(0)
  for (const tunnels of TUNNEL_STAGES) {
    await openIdle(port, tunnels - sockets.length, sockets)
    await tunnelsOpen(pair, port, tunnels)
    await measure(tunnels)
  }
  closeAll(sockets)
  await tunnelsOpen(pair, port, 0)
  const [afterA, afterB] = await settledRssKiB([pair.a.pid, pair.b.pid])
  const base = stages[0] as typeof stages[number]
  const perTunnel = (stage: typeof base, from = base): { a: number, b: number, both: number } => {
    const n = stage.tunnels - from.tunnels
    const [a, b] = [(stage.rssKiB.a - from.rssKiB.a) / n, (stage.rssKiB.b - from.rssKiB.b) / n]
    return { a: round(a, 1), b: round(b, 1), both: round(a + b, 1) }
  }
  return {
    stages,
    kibPerTunnel: Object.fromEntries(stages.slice(1).map(stage => [stage.tunnels, perTunnel(stage)])),
    afterClosingAllRssKiB: { a: afterA, b: afterB }
  }
}

/** Heap objects per tunnel at both ends: snapshots at 0 and at the largest stage, on a pair of their own. */
async function heapPerTunnel (scope: Scope, echoTarget: string): Promise<{ a: ReturnType<typeof censusDelta>, b: ReturnType<typeof censusDelta> }> {
  const dir = await tempDir('agentmesh-heap-')
  scope.defer(async () => rm(dir, { recursive: true, force: true }))
  const { pair, port, sockets } = await warmPair(scope, echoTarget, { NODE_OPTIONS: heapSnapshotOptions(dir) })
  const before = { a: await takeHeapCensus(pair.a.pid, dir), b: await takeHeapCensus(pair.b.pid, dir) }
  const tunnels = TUNNEL_STAGES.at(-1) as number
  await openIdle(port, tunnels, sockets)
  await tunnelsOpen(pair, port, tunnels)
  const after = { a: await takeHeapCensus(pair.a.pid, dir), b: await takeHeapCensus(pair.b.pid, dir) }
  closeAll(sockets)
  return { a: censusDelta(before.a, after.a, tunnels), b: censusDelta(before.b, after.b, tunnels) }
}

function heapTable (title: string, delta: { totalBytesPerUnit: number, rows: CensusDelta[] }, unit = 'tunnel'): string {
  return [
    `### ${title}: ${round(delta.totalBytesPerUnit / 1024, 2)} KiB of V8 heap per ${unit} (${round((delta.totalBytesPerUnit - (delta.rows.find(row => row.constructor === '(compiled code)')?.bytesPerUnit ?? 0)) / 1024, 2)} KiB without \`(compiled code)\`, the JIT's output for code paths first run meanwhile)`,
    '',
    `| constructor | objects per ${unit} | bytes per ${unit} |`,
    '| --- | ---: | ---: |',
    ...delta.rows.filter(row => Math.abs(row.bytesPerUnit) >= 16).map(row => `| \`${row.constructor}\` | ${round(row.countPerUnit, 2)} | ${Math.round(row.bytesPerUnit)} |`),
    ''
  ].join('\n')
}

/** `PEERS` swarm peers dialling `hub`, connected once this resolves; stopped with the scope (or by the returned function). */
async function connectSwarm (scope: Scope, hub: TestDaemon): Promise<() => Promise<void>> {
  const address = (await hub.id()).addresses[0] as string
  const swarm = spawn(process.execPath, [join(import.meta.dirname, 'lib', 'peer-swarm.ts'), String(PEERS), address, String(PEER_DIALS_PER_SECOND)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const stop = async (): Promise<void> => stopChild(swarm, 12_000)
  scope.defer(stop)
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('the peer swarm did not report within 60 s')) }, 60_000)
    createInterface({ input: swarm.stdout }).once('line', text => { clearTimeout(timer); resolve(text) })
    swarm.once('exit', code => { clearTimeout(timer); reject(new Error(`the peer swarm exited ${code}`)) })
  })
  const report = JSON.parse(line) as { connected: number, errors: string[] }
  if (report.connected < PEERS) throw new Error(`only ${report.connected} of ${PEERS} peers connected: ${report.errors.join('; ')}`)
  await waitFor(`${PEERS} connected peers`, async () => (await connectedPeers(hub)) >= PEERS, 60_000, 250)
  return stop
}

async function peerMemory (scope: Scope): Promise<{ idleRssKiB: number, idleParts: { anon: number, file: number }, withPeersRssKiB: number, deltaMiB: number, kibPerPeer: number, connected: number }> {
  const hub = await daemon(scope)
  const [idle] = await settledRssKiB([hub.pid], { settleMs: 5_000 })
  const { anon, file } = await rssPartsKiB(hub.pid)
  const stop = await connectSwarm(scope, hub)
  const [withPeers] = await settledRssKiB([hub.pid], { settleMs: 5_000 })
  const connected = await connectedPeers(hub)
  await stop()
  return {
    idleRssKiB: idle as number,
    idleParts: { anon, file },
    withPeersRssKiB: withPeers as number,
    deltaMiB: round(((withPeers as number) - (idle as number)) / 1024, 1),
    kibPerPeer: Math.round(((withPeers as number) - (idle as number)) / PEERS),
    connected
  }
}

/** Heap objects per connected peer: snapshots of a daemon of its own, idle and with the swarm connected; and the idle one. */
async function heapPerPeer (scope: Scope): Promise<{ delta: ReturnType<typeof censusDelta>, idle: HeapCensus }> {
  const dir = await tempDir('agentmesh-heap-')
  scope.defer(async () => rm(dir, { recursive: true, force: true }))
  const hub = await daemon(scope, { env: { NODE_OPTIONS: heapSnapshotOptions(dir) } })
  await sleep(3_000)
  const before = await takeHeapCensus(hub.pid, dir)
  const stop = await connectSwarm(scope, hub)
  await sleep(3_000)
  const after = await takeHeapCensus(hub.pid, dir)
  await stop()
  return { delta: censusDelta(before, after, PEERS), idle: before }
}

/** The largest kinds of object in a heap census, and its total. */
function censusTable (census: HeapCensus, top = 20): string {
  const rows = [...census.entries()].sort((x, y) => y[1].bytes - x[1].bytes)
  const total = rows.reduce((sum, [, entry]) => sum + entry.bytes, 0)
  return [
    `V8 heap: ${round(total / 2 ** 20, 1)} MiB in all.`,
    '',
    '| constructor | objects | KiB | share |',
    '| --- | ---: | ---: | ---: |',
    ...rows.slice(0, top).map(([name, entry]) => `| \`${name}\` | ${entry.count} | ${Math.round(entry.bytes / 1024)} | ${round(100 * entry.bytes / total, 1)}% |`),
    ''
  ].join('\n')
}

await runPart(async scope => {
  const startups: number[] = []
  for (let i = 0; i < STARTUP_RUNS; i++) startups.push(await startupMs())
  const echo = await startEchoServer()
  scope.defer(async () => echo.close())
  const tunnels = await tunnelMemory(scope, echo.target)
  progress('memory', 'heap snapshots per tunnel')
  const heap = await heapPerTunnel(scope, echo.target)
  const heapFile = await writeResult('heap-tunnels.md', [
    ...fileHeader(`V8 heap per idle tunnel (${TUNNEL_STAGES.at(-1)} tunnels)`, 'memory'),
    `Heap snapshots (taken on SIGUSR2, after a full GC) of both daemons of a pair with no tunnel open and with`,
    `${TUNNEL_STAGES.at(-1)} idle tunnels open, diffed by constructor and divided by the tunnel count. This is the`,
    'JavaScript heap only: sockets\' native handles and the allocator\'s slack add to RSS on top of it.',
    '`system / JSArrayBufferData` is the memory behind Buffers and Uint8Arrays.',
    '',
    heapTable('B (forward side)', heap.b),
    heapTable('A (expose side)', heap.a)
  ].join('\n'))
  progress('memory', `${PEERS} peers`)
  const peers = await peerMemory(scope)
  progress('memory', `heap snapshots per peer`)
  const { delta: peerHeap, idle: idleHeap } = await heapPerPeer(scope)
  const idleHeapFile = await writeResult('heap-idle.md', [
    ...fileHeader('Where an idle daemon\'s memory goes', 'memory'),
    `RSS of an idle daemon (started, settled 5 s, no peer): ${round(peers.idleRssKiB / 1024, 1)} MiB, of which`,
    `${round(peers.idleParts.file / 1024, 1)} MiB file-backed (the pages of the node binary and native libraries it has`,
    `touched, shared with every other node process and reclaimable by the kernel) and ${round(peers.idleParts.anon / 1024, 1)} MiB`,
    'anonymous (this process\'s own: the V8 heap below, V8\'s code and the allocator).',
    '',
    'The V8 heap of the same idle daemon (a snapshot on SIGUSR2, after a full GC), by constructor. `(string)` is mostly',
    'the source text of the modules loaded (V8 keeps it to compile functions lazily), `(compiled code)` their bytecode',
    'and machine code.',
    '',
    censusTable(idleHeap)
  ].join('\n'))
  const peerHeapFile = await writeResult('heap-peers.md', [
    ...fileHeader(`V8 heap per connected peer (${PEERS} peers)`, 'memory'),
    `Heap snapshots (taken on SIGUSR2, after a full GC) of an idle daemon and of the same daemon with ${PEERS} connected`,
    'peers (in-process libp2p nodes speaking TCP, noise, yamux, identify, ping and the mesh\'s kad-dht, `bench/lib/peer-swarm.ts`),',
    'diffed by constructor and divided by the peer count. JavaScript heap only, as in heap-tunnels.md.',
    '',
    heapTable('The daemon', peerHeap, 'peer')
  ].join('\n'))

  const perTunnel = (tunnels.kibPerTunnel as Record<string, { both: number }>)[String(TUNNEL_STAGES.at(-1))] as { both: number }
  const targets: Target[] = [{
    id: 'memory-per-tunnel',
    what: `RSS per idle tunnel, both daemons together (${TUNNEL_STAGES.at(-1)} tunnels)`,
    target: '<= 16 KiB',
    value: `${perTunnel.both} KiB`,
    met: perTunnel.both <= 16
  }, {
    id: 'memory-100-peers',
    what: `RSS of a daemon with ${PEERS} connected peers above the same daemon idle`,
    target: '<= 15 MiB',
    value: `${peers.deltaMiB} MiB`,
    met: peers.deltaMiB <= 15
  }, {
    id: 'memory-per-peer',
    what: 'RSS per connected peer',
    target: '<= 150 KiB',
    value: `${peers.kibPerPeer} KiB`,
    met: peers.kibPerPeer <= 150
  }, {
    id: 'memory-idle',
    what: 'RSS of an idle daemon (anonymous / file-backed pages)',
    target: '<= 64 MiB',
    value: `${round(peers.idleRssKiB / 1024, 1)} MiB (${round(peers.idleParts.anon / 1024, 1)} / ${round(peers.idleParts.file / 1024, 1)})`,
    met: peers.idleRssKiB <= 64 * 1024
  }, {
    id: 'startup',
    what: 'start-up, spawn to the "is up" line (median)',
    target: '<= 400 ms',
    value: `${Math.round(median(startups))} ms`,
    met: median(startups) <= 400
  }]
  return {
    results: {
      startupMs: { median: Math.round(median(startups)), runs: startups.map(Math.round) },
      idleDaemonRssMiB: round(peers.idleRssKiB / 1024, 1),
      idleDaemonRssPartsMiB: { anon: round(peers.idleParts.anon / 1024, 1), file: round(peers.idleParts.file / 1024, 1), heapFile: idleHeapFile },
      tunnels,
      heapPerTunnelKiB: { a: round(heap.a.totalBytesPerUnit / 1024, 2), b: round(heap.b.totalBytesPerUnit / 1024, 2), file: heapFile },
      peers: { count: PEERS, ...peers, heapPerPeerKiB: round(peerHeap.totalBytesPerUnit / 1024, 1), heapFile: peerHeapFile }
    },
    targets,
    files: [heapFile, peerHeapFile, idleHeapFile]
  }
})
