/**
 * The relayed path, `npm run bench -- relayed`: 8 MiB and 64 MiB copied through an
 * agentmesh forward whose two daemons reach each other only through a relay (a third
 * daemon started with `--relay`), against the same copy through a forward between two
 * daemons connected directly, and over plain loopback TCP. Each copy connects, sends the
 * bytes, ends its side and waits for the service's SHA-256 of what it received, which
 * must match; rounds alternate the paths (rotating which goes first), each figure is the
 * median of the rounds and each ratio the median of the ratios within a round.
 *
 * The relayed pair is set up in the order a user can follow: the relay, A (which exposes)
 * and B (which forwards) start, print their ids, and only then does each `trust add` the
 * others (the relay trusts A and B, so their circuit has no limits). A joins through
 * the relay and holds a reservation on it; B knows no one and dials A at the
 * `/p2p-circuit` address of that reservation. Hole punching is off on both (no WebRTC
 * path, no upgrade to A's TCP address, which B learns over the circuit), and neither
 * walks the DHT. `agentmesh peers --json` on B must say `relayed` for A before the copies
 * and after them, or the part fails.
 */

import { connect } from 'node:net'
import { waitFor } from '../test/helpers/daemon.ts'
import { deterministicBytes, MiB, sha256 } from '../test/helpers/services/data.ts'
import { agentmesh, expose, forward, trust } from '../test/helpers/services/mesh.ts'
import { digestUntilEnd, startTcpServer, writeChunks } from '../test/helpers/services/tcp.ts'
import { runPart } from './lib/part.ts'
import { daemon, meshPair, progress } from './lib/setup.ts'
import { median, rotate, round, since } from './lib/stats.ts'
import type { TestDaemon } from '../test/helpers/daemon.ts'
import type { TcpService } from '../test/helpers/services/tcp.ts'
import type { PeerView } from '../src/control/api.ts'
import type { Scope } from './lib/setup.ts'
import type { Target } from './lib/part.ts'

const SIZES_MIB = [8, 64] as const
const ROUNDS = 3
/** the slowest copy allowed: 64 MiB at 2 MB/s */
const COPY_TIMEOUT_MS = 35_000
const PATHS = ['tcp', 'direct', 'relayed'] as const
type Path = typeof PATHS[number]
/** The target: the relayed copy against plain loopback TCP. */
const TARGET_RATIO = 0.5

/** Daemons that meet only the peers the bench introduces: no DHT walks, no keep-alive of closest peers, no WebRTC. */
const ISOLATED = { env: { AGENTMESH_DISCOVERY_WALK_INTERVAL_SECONDS: '3600', AGENTMESH_NAT_HOLE_PUNCHING: 'false' }, args: ['--dht-mode', 'client'] }

/** A TCP service that reads until the client ends its side, then answers with the SHA-256 of what it read and ends. */
async function digestService (scope: Scope): Promise<TcpService> {
  const service = await startTcpServer(socket => {
    digestUntilEnd(socket, COPY_TIMEOUT_MS).then(digest => { socket.end(digest.hex()) }, () => { socket.destroy() })
  })
  scope.defer(async () => service.close())
  return service
}

/** Milliseconds to send `data` through 127.0.0.1:port and get its SHA-256 back; throws if the digest differs. */
async function copyMs (port: number, data: Buffer, expected: string): Promise<number> {
  const started = performance.now()
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true })
  try {
    const reply = digestUntilEnd(socket, COPY_TIMEOUT_MS)
    const text: Buffer[] = []
    socket.on('data', chunk => text.push(chunk))
    await writeChunks(socket, chunksOf(data, MiB))
    await reply
    const ms = since(started)
    const got = Buffer.concat(text).toString()
    if (got !== expected) throw new Error(`copy of ${data.length} bytes through port ${port}: the service received bytes with SHA-256 ${got || '(none)'}, not ${expected}`)
    return ms
  } finally {
    socket.destroy()
  }
}

function * chunksOf (data: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size)
}

/** How B reaches A, from `agentmesh peers --json` on B. */
async function pathTo (b: TestDaemon, aId: string): Promise<PeerView | undefined> {
  const peers = JSON.parse(await agentmesh(b, ['peers', '--json'])) as PeerView[]
  return peers.find(peer => peer.peerId === aId)
}

async function assertRelayed (b: TestDaemon, aId: string, when: string): Promise<void> {
  const view = await pathTo(b, aId)
  if (view?.connection !== 'relayed') throw new Error(`${when}, B reaches A ${view?.connection ?? 'not at all'} (transport ${view?.transport}), not relayed: the relayed figures would not be the relay's`)
}

/** Relay R, A reachable only through it, B forwarding to A's service over the circuit: B's forward port, and what `assertRelayed` needs. */
async function relayedForward (scope: Scope, target: string): Promise<{ port: number, b: TestDaemon, aId: string }> {
  const relay = await daemon(scope, { args: ['--relay'] })
  const relayIdentity = await relay.id()
  const relayAddress = relayIdentity.addresses[0] as string
  const a = await daemon(scope, { ...ISOLATED, bootstrap: [relayAddress] })
  const b = await daemon(scope, ISOLATED)
  const [aId, bId] = [(await a.id()).peerId, (await b.id()).peerId]
  await trust(relay, aId, 'a')
  await trust(relay, bId, 'b')
  await trust(a, bId, 'b')
  await trust(b, aId, 'a')
  const circuit = `${relayAddress}/p2p-circuit/p2p/${aId}`
  await waitFor('A\'s reservation on the relay', async () => (await a.id()).addresses.some(address => address.includes('/p2p-circuit')), 30_000, 250)
  // libp2p lets one ping stream run per connection at a time: ping again until one is answered
  await waitFor(`B's ping to ${circuit}`, async () => {
    await agentmesh(b, ['ping', circuit, '--count', '1'])
    return true
  }, 20_000, 300)
  await expose(a, 'digest', target)
  const { port } = await forward(b, aId, 'digest')
  await assertRelayed(b, aId, 'before the copies')
  return { port, b, aId }
}

await runPart(async scope => {
  const service = await digestService(scope)
  const direct = await meshPair(scope, ISOLATED)
  const relayed = await relayedForward(scope, service.target)
  const ports: Record<Path, number> = { tcp: service.port, direct: await direct.tunnel('digest', service.target), relayed: relayed.port }

  const largest = deterministicBytes('agentmesh relayed bench', Math.max(...SIZES_MIB) * MiB)
  const payloads = SIZES_MIB.map(mib => {
    const data = largest.subarray(0, mib * MiB)
    return { mib, data, sha256: sha256(data) }
  })
  // warm-up: the tunnels' first streams, the JIT
  for (const path of PATHS) await copyMs(ports[path], payloads[0]!.data, payloads[0]!.sha256)

  const mbps: Record<number, Record<Path, number[]>> = {}
  for (const { mib } of payloads) mbps[mib] = { tcp: [], direct: [], relayed: [] }
  for (let r = 0; r < ROUNDS; r++) {
    for (const { mib, data, sha256: expected } of payloads) {
      for (const path of rotate([...PATHS], r)) {
        const value = data.length / 1e6 / (await copyMs(ports[path], data, expected) / 1000)
        mbps[mib]![path].push(value)
        progress('relayed', `round ${r + 1}/${ROUNDS}, ${mib} MiB, ${path}: ${value.toFixed(1)} MB/s`)
      }
    }
  }
  await assertRelayed(relayed.b, relayed.aId, 'after the copies')

  const sizes = Object.fromEntries(payloads.map(({ mib }) => {
    const runs = mbps[mib] as Record<Path, number[]>
    const perRound = (top: Path, bottom: Path): number[] => runs[top].map((value, i) => value / (runs[bottom][i] as number))
    return [`mib${mib}`, {
      mib,
      mbps: Object.fromEntries(PATHS.map(path => [path, round(median(runs[path]), 1)])),
      ratios: {
        relayedVsTcp: round(median(perRound('relayed', 'tcp')), 3),
        relayedVsDirect: round(median(perRound('relayed', 'direct')), 2),
        directVsTcp: round(median(perRound('direct', 'tcp')), 3)
      },
      runsMBps: Object.fromEntries(PATHS.map(path => [path, runs[path].map(value => round(value, 1))]))
    }]
  })) as Record<string, { mib: number, ratios: { relayedVsTcp: number, relayedVsDirect: number } }>

  const targets: Target[] = Object.values(sizes).map(size => ({
    id: `relayed-${size.mib}mib`,
    what: `${size.mib} MiB through a forward whose daemons meet only through a relay, on loopback: relayed / plain loopback TCP`,
    target: `>= ${TARGET_RATIO * 100}%`,
    value: `${round(size.ratios.relayedVsTcp * 100, 1)}% (${size.ratios.relayedVsDirect}x the direct agentmesh path)`,
    met: size.ratios.relayedVsTcp >= TARGET_RATIO
  }))
  return { results: { rounds: ROUNDS, ...sizes }, targets }
})
