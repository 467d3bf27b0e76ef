/**
 * Bulk throughput, `npm run bench -- bulk`: iperf3 with one flow and with four parallel
 * flows, raw loopback vs `ssh -L` (OpenSSH defaults) vs an agentmesh forward between two
 * daemons. Rounds alternate the paths (rotating which goes first); each figure is the
 * median of the rounds, and each ratio the median of the ratios within a round. Then a
 * second, profiled daemon pair carries one more single flow, and the daemons' CPU
 * profiles over that flow are summarised into bench/results/profile-bulk.md.
 *
 * Nebula side by side (lib/nebula.ts): where the machine can run it, the same rounds also
 * run iperf3 between two network namespaces over nebula, and over the link nebula runs on
 * (its raw baseline); where it cannot, the results say why.
 */

import { waitFor } from '../test/helpers/daemon.ts'
import { run } from '../test/helpers/services/process.ts'
import { hrtimeUs, profiledMeshPair, writeProfileReport } from './lib/cpu-profile.ts'
import { nebulaHosts } from './lib/nebula.ts'
import { runPart } from './lib/part.ts'
import { cpuSecondsOf, iperfServer, meshPair, progress, sshd, sshForward } from './lib/setup.ts'
import { median, rotate, round } from './lib/stats.ts'
import type { Target } from './lib/part.ts'

const ROUNDS = 3
const SECONDS = 4
const FLOWS = [1, 4] as const
/** loopback: raw, `ssh -L`, agentmesh; between nebula's network namespaces: the link, nebula */
type Path = 'raw' | 'sshL' | 'agentmesh' | 'link' | 'nebula'
/** the iperf3 server's port in nebula's host A */
const NEBULA_IPERF_PORT = 5201

/** Where an iperf3 client runs (`run`: here, or in a namespace) and what it connects to. */
interface Endpoint {
  host: string
  port: number
  run: typeof run
}

const loopback = (port: number): Endpoint => ({ host: '127.0.0.1', port, run })

/**
 * Gbit/s received by the iperf3 server at `to`, and the CPU seconds per GiB that the
 * processes carrying the path (`carriers`, with their descendants) used meanwhile: a
 * figure that, unlike throughput, holds up when other work shares the cores.
 */
async function iperf (to: Endpoint, seconds: number, flows: number, carriers: number[] = []): Promise<{ gbps: number, cpuSecondsPerGiB: number }> {
  const cpuBefore = await cpuSecondsOf(carriers)
  const result = await to.run('iperf3', ['-c', to.host, '-p', String(to.port), '-t', String(seconds), '-P', String(flows), '-J'], { timeoutMs: (seconds + 20) * 1000 })
  const cpuUsed = await cpuSecondsOf(carriers) - cpuBefore
  if (result.code !== 0) throw new Error(`iperf3 to ${to.host}:${to.port} failed: ${result.stdout.slice(0, 500)} ${result.stderr}`)
  const received = JSON.parse(result.stdout).end.sum_received ?? (() => { throw new Error(`iperf3 to ${to.host}:${to.port}: ${JSON.parse(result.stdout).error}`) })()
  return { gbps: received.bits_per_second / 1e9, cpuSecondsPerGiB: cpuUsed / (received.bytes / 2 ** 30) }
}

await runPart(async scope => {
  const iperfPort = await iperfServer(scope)
  const server = await sshd(scope)
  const pair = await meshPair(scope)
  const ssh = await sshForward(scope, server, iperfPort)
  const endpoints: Partial<Record<Path, Endpoint>> = {
    raw: loopback(iperfPort),
    sshL: loopback(ssh.port),
    agentmesh: loopback(await pair.tunnel('iperf', `127.0.0.1:${iperfPort}`))
  }
  // the processes that carry each path: ssh and sshd (whose session processes are its children), the two daemons, the two nebulas
  const carriers: Partial<Record<Path, number[]>> = { raw: [], sshL: [ssh.pid, server.process.pid as number], agentmesh: [pair.a.pid, pair.b.pid] }
  const nebula = await nebulaHosts(scope)
  if ('missing' in nebula) {
    progress('bulk', `nebula not measured: ${nebula.missing}`)
  } else {
    nebula.serve('iperf3', ['-s', '-p', String(NEBULA_IPERF_PORT)])
    endpoints.link = { host: nebula.addresses.link, port: NEBULA_IPERF_PORT, run: nebula.run }
    endpoints.nebula = { host: nebula.addresses.nebula, port: NEBULA_IPERF_PORT, run: nebula.run }
    carriers.link = []
    carriers.nebula = nebula.pids
    await waitFor('iperf3 in nebula\'s host A', async () => iperf(endpoints.link as Endpoint, 1, 1), 10_000, 250)
  }
  const paths = Object.keys(endpoints) as Path[]
  for (const path of paths) await iperf(endpoints[path] as Endpoint, 1, 1) // warm-up: connections, JIT

  const gbps: Record<string, Partial<Record<Path, number[]>>> = {}
  const cpuPerGiB: Record<string, Partial<Record<Path, number[]>>> = {}
  for (const flows of FLOWS) {
    gbps[flows] = Object.fromEntries(paths.map(path => [path, []]))
    cpuPerGiB[flows] = Object.fromEntries(paths.map(path => [path, []]))
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const flows of FLOWS) {
      for (const path of rotate(paths, r)) {
        const value = await iperf(endpoints[path] as Endpoint, SECONDS, flows, carriers[path])
        gbps[flows]?.[path]?.push(value.gbps)
        cpuPerGiB[flows]?.[path]?.push(value.cpuSecondsPerGiB)
        progress('bulk', `round ${r + 1}/${ROUNDS}, ${flows} flow(s), ${path}: ${value.gbps.toFixed(2)} Gbit/s${carriers[path]?.length === 0 ? '' : `, ${value.cpuSecondsPerGiB.toFixed(2)} CPU s/GiB`}`)
      }
    }
  }

  const summary = Object.fromEntries(FLOWS.map(flows => {
    const runs = gbps[flows] as Record<Path, number[]>
    const ratio = (top: Path, bottom: Path): number | undefined =>
      runs[top] == null || runs[bottom] == null ? undefined : round(median(runs[top].map((value, i) => value / (runs[bottom][i] as number))))
    return [flows === 1 ? 'singleFlow' : `flows${flows}`, {
      gbps: Object.fromEntries(paths.map(path => [path, round(median(runs[path]))])),
      ratios: {
        agentmeshVsSshL: ratio('agentmesh', 'sshL'),
        agentmeshVsRaw: ratio('agentmesh', 'raw'),
        sshLVsRaw: ratio('sshL', 'raw'),
        nebulaVsLink: ratio('nebula', 'link'),
        agentmeshVsNebula: ratio('agentmesh', 'nebula')
      },
      runsGbps: Object.fromEntries(paths.map(path => [path, runs[path].map(value => round(value, 3))])),
      cpuSecondsPerGiB: Object.fromEntries(paths.filter(path => carriers[path]?.length !== 0).map(path => [path, round(median(cpuPerGiB[flows]?.[path] ?? []))]))
    }]
  }))

  progress('bulk', 'profiled pair: one more single flow')
  const profiled = await profiledMeshPair(scope)
  const profiledEndpoint = loopback(await profiled.tunnel('iperf', `127.0.0.1:${iperfPort}`))
  await iperf(profiledEndpoint, 1, 1)
  const startUs = hrtimeUs()
  const profiledGbps = (await iperf(profiledEndpoint, SECONDS, 1)).gbps
  const window = { startUs, endUs: hrtimeUs() }
  const profiles = await profiled.summaries(window)
  const profile = await writeProfileReport('profile-bulk.md', 'CPU profile: one iperf3 flow through an agentmesh forward', 'bulk', [
    `Both daemons ran with \`node --cpu-prof\` (1 ms sampling) while iperf3 sent one flow for ${SECONDS} s`,
    `(${profiledGbps.toFixed(2)} Gbit/s under the profiler; ${summary.singleFlow?.gbps.agentmesh} Gbit/s without it).`,
    'B is the forwarding side: it reads the iperf3 client\'s socket and sends on the tunnel stream',
    '(yamux frames, noise encryption). A is the exposing side: it decrypts, demultiplexes and',
    'writes to the iperf3 server. Self time only counts samples inside the flow\'s window; "(idle)" is left out.'
  ], profiles, { b: 'B (forward side: socket -> stream, encrypts)', a: 'A (expose side: stream -> socket, decrypts)' })

  const single = summary.singleFlow as { ratios: { agentmeshVsSshL: number } }
  const targets: Target[] = [{
    id: 'bulk-single-flow',
    what: 'bulk, one iperf3 flow: agentmesh / ssh -L (median of per-round ratios)',
    target: '>= 1.0x',
    value: `${single.ratios.agentmeshVsSshL}x`,
    met: single.ratios.agentmeshVsSshL >= 1.0
  }]
  return {
    results: {
      rounds: ROUNDS,
      secondsPerRun: SECONDS,
      ...summary,
      nebula: 'missing' in nebula ? { missing: nebula.missing } : nebula.about,
      profile: { gbpsUnderProfiler: round(profiledGbps), ...profile }
    },
    targets,
    files: [profile.file]
  }
})
