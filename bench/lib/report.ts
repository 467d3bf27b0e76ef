/**
 * bench/results/latest.md from bench/results/latest.json: the markdown tables the
 * README shows, one section per part that has results. `node bench/lib/report.ts`
 * re-renders it from the JSON without running anything.
 */

import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RESULTS_DIR } from './part.ts'
import type { Target } from './part.ts'

export interface PartRecord {
  date: string
  durationSeconds: number
  machine: Record<string, any>
  results?: any
  targets?: Target[]
  files?: string[]
  error?: string
}

export interface Latest {
  date: string
  machine: Record<string, any>
  /** the parts this run ran (the others are kept from earlier runs) */
  ran: string[]
  durationSeconds: number
  parts: Record<string, PartRecord>
  targets: Array<Target & { part: string }>
}

const fmt = (value: number, digits = 2): string => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
const gbps = (value: number): string => `${fmt(value)} Gbit/s`
const ms = (value: number): string => `${fmt(value)} ms`
const mib = (kib: number): string => `${fmt(kib / 1024, 1)} MiB`

/**
 * Nebula's table under a part's own (absent from results older than the measure): its
 * figures between two network namespaces, next to the link it runs on, or why it did not run.
 */
function nebula (about: any, header: string, rows: () => string[]): string[] {
  if (about == null) return []
  if (about.missing != null) return ['', `Nebula not measured: ${about.missing}.`]
  return [
    '',
    `| nebula ${about.version} between two network namespaces, in the same rounds: ${header} | the link under it | nebula |`,
    '| --- | ---: | ---: |',
    ...rows(),
    '',
    `Nebula's hosts: ${about.setup}. \`ssh -L\` and agentmesh run on loopback.`
  ]
}

function bulk (r: any): string[] {
  const row = (label: string, flow: any): string => `| ${label} | ${gbps(flow.gbps.raw)} | ${gbps(flow.gbps.sshL)} | ${gbps(flow.gbps.agentmesh)} | ${fmt(flow.ratios.agentmeshVsSshL)}x |`
  return [
    `| iperf3, median of ${r.rounds} alternating ${r.secondsPerRun} s rounds | raw loopback | \`ssh -L\` | agentmesh | agentmesh / \`ssh -L\` (within a round) |`,
    '| --- | ---: | ---: | ---: | ---: |',
    row('one flow', r.singleFlow),
    row('four parallel flows', r.flows4),
    `| CPU seconds per GiB carried, one flow (ssh and sshd; both daemons) | | ${fmt(r.singleFlow.cpuSecondsPerGiB.sshL)} | ${fmt(r.singleFlow.cpuSecondsPerGiB.agentmesh)} | ${fmt(r.singleFlow.cpuSecondsPerGiB.agentmesh / r.singleFlow.cpuSecondsPerGiB.sshL)}x |`,
    ...nebula(r.nebula, 'iperf3', () => [
      ...[['one flow', r.singleFlow], ['four parallel flows', r.flows4]].map(([label, flow]) =>
        `| ${label} (agentmesh / nebula within a round: ${fmt(flow.ratios.agentmeshVsNebula)}x) | ${gbps(flow.gbps.link)} | ${gbps(flow.gbps.nebula)} |`),
      `| CPU seconds per GiB carried, one flow (both nebula processes) | | ${fmt(r.singleFlow.cpuSecondsPerGiB.nebula)} |`
    ])
  ]
}

/** New connections per second, 100 clients at once (absent from results older than the measure). */
function connectionRate (rate: any): string[] {
  if (rate == null) return []
  return [
    `| new connections per second, ${rate.clients} clients at once, each connecting, echoing 16 bytes and closing; median of ${rate.rounds} alternating ${rate.secondsPerRun} s rounds | direct | \`ssh -L\` | agentmesh |`,
    '| --- | ---: | ---: | ---: |',
    `| connections per second (failed) | ${fmt(rate.perSecond.direct, 0)} (${rate.failed.direct}) | ${fmt(rate.perSecond.sshL, 0)} (${rate.failed.sshL}) | ${fmt(rate.perSecond.agentmesh, 0)} (${rate.failed.agentmesh}), ${fmt(rate.agentmeshVsSshL)}x \`ssh -L\` |`,
    `| CPU time per connection (ssh and sshd; both daemons) | | ${ms(rate.cpuMsPerConnection.sshL)} | ${ms(rate.cpuMsPerConnection.agentmesh)} |`,
    ''
  ]
}

function connections (r: any): string[] {
  const fb = r.firstByteMs
  const rt = r.roundTrips
  const d = rt.delayMsEachWay
  const rtRow = (label: string, x: any): string => `| ${label} | ${x.analytic} | ${x.measured.toFixed(1)} | ${ms(x.msAtNoDelay)} | ${ms(x.msAtDelay)} |`
  return [
    `| new TCP connection, 1-byte request and reply, ${r.connections} sequential | direct | \`ssh -L\` | agentmesh (warm peer connection) |`,
    '| --- | ---: | ---: | ---: |',
    `| p50 / p99 | ${ms(fb.direct.p50)} / ${ms(fb.direct.p99)} | ${ms(fb.sshL.p50)} / ${ms(fb.sshL.p99)} | ${ms(fb.agentmesh.p50)} / ${ms(fb.agentmesh.p99)} |`,
    `| CPU time per connection (ssh and sshd; both daemons) | | ${ms(r.cpuMsPerConnection.sshL)} | ${ms(r.cpuMsPerConnection.agentmesh)} |`,
    ...nebula(r.nebula, `${r.connections} sequential new connections`, () => [
      `| p50 / p99 | ${ms(fb.link?.p50)} / ${ms(fb.link?.p99)} | ${ms(fb.nebula?.p50)} / ${ms(fb.nebula?.p99)} |`,
      `| CPU time per connection (both nebula processes) | | ${ms(r.cpuMsPerConnection.nebula)} |`
    ]),
    '',
    ...connectionRate(r.newConnectionsPerSecond),
    `| first byte back on a new connection | round trips, by protocol | measured: (t(D) - t(0)) / 2D | t(0): loopback | t(D): ${d} ms each way |`,
    '| --- | ---: | ---: | ---: | ---: |',
    rtRow('direct TCP', rt.direct),
    rtRow('`ssh -L` (SSH connection up)', rt.sshL),
    rtRow('agentmesh (peer connection up)', rt.agentmesh),
    rtRow('agentmesh cold start (new peer connection, then the tunnel)', rt.agentmeshCold),
    rtRow('HTTP/2 over TLS 1.3, new connection (node `http2`)', rt.http2TlsCold),
    '',
    `Round trips are added by a user-space delay link (a TCP proxy holding each chunk ${d} ms each way, and the client's first bytes until the TCP handshake would have completed); median of ${rt.samples} alternating samples per delay.`
  ]
}

function relayed (r: any): string[] {
  const sizes = Object.values(r).filter((size: any) => size?.mib != null) as any[]
  const mbps = (value: number): string => `${fmt(value, 1)} MB/s`
  return [
    `| copy through a forward, SHA-256 checked, median of ${r.rounds} alternating rounds | plain loopback TCP | agentmesh, direct | agentmesh, through a relay | relayed / TCP | relayed / direct agentmesh |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...sizes.map(size => `| ${size.mib} MiB | ${mbps(size.mbps.tcp)} | ${mbps(size.mbps.direct)} | ${mbps(size.mbps.relayed)} | ${fmt(size.ratios.relayedVsTcp * 100, 1)}% | ${fmt(size.ratios.relayedVsDirect)}x |`)
  ]
}

function memory (r: any): string[] {
  const t = r.tunnels
  const stages = t.stages as Array<{ tunnels: number, rssKiB: { a: number, b: number } }>
  const per = t.kibPerTunnel
  const counts = Object.keys(per)
  return [
    '| memory (RSS, median of 5 readings once settled) | figure |',
    '| --- | ---: |',
    `| daemon start-up, spawn to listening (median of ${r.startupMs.runs.length}) | ${fmt(r.startupMs.median, 0)} ms |`,
    `| idle daemon | ${fmt(r.idleDaemonRssMiB, 1)} MiB${r.idleDaemonRssPartsMiB == null ? '' : ` (${fmt(r.idleDaemonRssPartsMiB.anon, 1)} MiB anonymous, ${fmt(r.idleDaemonRssPartsMiB.file, 1)} MiB file-backed: [heap-idle.md](heap-idle.md))`} |`,
    `| daemon pair (forward side + expose side) with ${stages.map(stage => fmt(stage.tunnels, 0)).join(' / ')} idle tunnels | ${stages.map(stage => mib(stage.rssKiB.a + stage.rssKiB.b)).join(' / ')} |`,
    `| per idle tunnel, both daemons together (${counts.map(count => fmt(Number(count), 0)).join(' / ')} tunnels) | ${counts.map(count => `${fmt(per[count].both, 1)} KiB`).join(' / ')} |`,
    `| of which V8 heap (heap snapshots, forward side + expose side) | ${fmt(r.heapPerTunnelKiB.b, 1)} + ${fmt(r.heapPerTunnelKiB.a, 1)} KiB |`,
    `| ${r.peers.count} connected peers, above the same daemon idle | ${fmt(r.peers.deltaMiB, 1)} MiB (${fmt(r.peers.kibPerPeer, 0)} KiB a peer, of which ${fmt(r.peers.heapPerPeerKiB, 0)} KiB V8 heap) |`
  ]
}

function requests (r: any): string[] {
  const cell = (path: string): string => `${fmt(r[path].rps, 0)} req/s, ${fmt(r[path].p50Ms, 0)} / ${fmt(r[path].p99Ms, 0)} ms`
  return [
    `| ${r.connections} concurrent keep-alive HTTP/1.1 clients (autocannon), median of ${r.rounds} alternating ${r.secondsPerRun} s rounds: req/s, latency p50 / p99 | direct | \`ssh -L\` | agentmesh |`,
    '| --- | ---: | ---: | ---: |',
    `| node:http server answering "ok" | ${cell('direct')} | ${cell('sshL')} | ${cell('agentmesh')} (${fmt(r.agentmeshVsSshL)}x \`ssh -L\`) |`
  ]
}

function envelope (r: any): string[] {
  return [
    '| envelope codec, typical request | figure |',
    '| --- | ---: |',
    `| encode / decode, ${r.envelopeBytes}-byte request (${r.secondsPerMeasurement} s runs) | ${fmt(r.encodeOpsPerSecond, 0)} / ${fmt(r.decodeOpsPerSecond, 0)} ops/s |`
  ]
}

function encryption (r: any): string[] {
  return [
    `| one libp2p stream in one process, ${r.streamMiB} MiB in 64 KiB writes, median of ${r.rounds} | noise | TLS 1.3 |`,
    '| --- | ---: | ---: |',
    `| createMeshNode's stack (this node's tuning) | ${fmt(r.oneStreamMBps.noise, 0)} MB/s | ${fmt(r.oneStreamMBps.tls, 0)} MB/s |`,
    `| Node's TLS 1.3 alone, on a socket / over a JavaScript duplex | | ${fmt(r.nodeTlsMBps.socket, 0)} / ${fmt(r.nodeTlsMBps.jsDuplex, 0)} MB/s |`
  ]
}

const SECTIONS: Record<string, { title: string, render: (results: any) => string[] }> = {
  bulk: { title: 'Bulk throughput', render: bulk },
  connections: { title: 'New connections', render: connections },
  relayed: { title: 'The relayed path', render: relayed },
  memory: { title: 'Memory', render: memory },
  requests: { title: 'Requests', render: requests },
  envelope: { title: 'Envelope codec', render: envelope },
  encryption: { title: 'Connection encryption', render: encryption }
}

export function renderMarkdown (latest: Latest): string {
  const m = latest.machine
  const lines = [
    '<!-- written by `npm run bench` from bench/results/latest.json: edit the renderer (bench/lib/report.ts), not this file -->',
    '',
    `Figures of ${latest.date.slice(0, 10)} on ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; load average ${m.loadAverage1m} when the run began${m.nodeOptions == null ? '' : `; NODE_OPTIONS=\`${m.nodeOptions}\``}. \`npm run bench${latest.ran.length === Object.keys(latest.parts).length ? '' : ` -- ${latest.ran.join(' ')}`}\` took ${fmt(latest.durationSeconds / 60, 1)} min.`,
    ''
  ]
  const order = (name: string): number => (Object.keys(SECTIONS).indexOf(name) + 1) || 99
  if (latest.targets.length > 0) {
    lines.push('| target | figure | met |', '| --- | --- | :---: |')
    for (const target of [...latest.targets].sort((a, b) => order(a.part) - order(b.part))) lines.push(`| ${target.what}: ${target.target} | ${target.value} | ${target.met ? 'yes' : '**no**'} |`)
    lines.push('')
  }
  for (const [name, part] of Object.entries(latest.parts).sort(([a], [b]) => order(a) - order(b))) {
    const section = SECTIONS[name]
    // each part's own load average: another process sharing the 2 cores skews that part only
    lines.push(`### ${section?.title ?? name} (\`npm run bench -- ${name}\`${part.date.slice(0, 10) === latest.date.slice(0, 10) ? '' : `, ${part.date.slice(0, 10)}`}; load average ${part.machine.loadAverage1m})`, '')
    if (part.error != null) lines.push(`Failed: ${part.error.split('\n')[0]}`, '')
    else if (section != null) lines.push(...section.render(part.results), '')
    else lines.push('```json', JSON.stringify(part.results, null, 2), '```', '')
    const files = part.files ?? []
    // paths from the repository root: these tables are pasted into the README
    if (files.length > 0) lines.push(`Details: ${files.map(file => `[${file}](${file})`).join(', ')}.`, '')
  }
  return lines.join('\n')
}

if (import.meta.main) {
  const latest = JSON.parse(await readFile(join(RESULTS_DIR, 'latest.json'), 'utf8')) as Latest
  await writeFile(join(RESULTS_DIR, 'latest.md'), renderMarkdown(latest))
}
