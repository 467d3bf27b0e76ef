/**
 * New connections, `npm run bench -- connections`:
 *
 * 1. 200 sequential new TCP connections, each sending 1 byte to an echo service and
 *    reading it back: direct vs `ssh -L` vs agentmesh over a warm peer connection,
 *    p50/p99, in alternating rounds; a profiled daemon pair repeats the agentmesh run
 *    and its CPU profiles go to bench/results/profile-connections.md. Where the machine
 *    can run nebula (lib/nebula.ts), the same rounds also connect between its two
 *    network namespaces, over nebula and over the link under it.
 * 2. New connections per second through the same three paths: 100 clients at once, each
 *    opening short echo connections (connect, 16 bytes there and back, close) one after
 *    another for 5 s, in alternating rounds.
 * 3. Round trips, counted and measured: every path also runs through a user-space delay
 *    link (`lib/delay-proxy.ts`, D ms each way) and (t_D - t_0) / 2D is the measured
 *    round-trip count: the warm paths above, an agentmesh cold start (a new libp2p
 *    connection, then the first byte through the tunnel) and a fresh HTTP/2-over-TLS 1.3
 *    connection (node's http2 and tls) with one request.
 *
 * The cold pair: A2 listens behind the delay proxy and announces only the proxy's address,
 * B2 learns it with `agentmesh ping <proxy multiaddr>`, and both run `--dht-mode client`
 * so that kad-dht's keep-alive of its closest peers does not re-dial behind the bench's
 * back. Before each cold start the proxy drops the connection, the bench waits until
 * both daemons report no peer, and checks afterwards that exactly one new connection went
 * through the proxy.
 */

import { createSecureServer } from 'node:http2'
import { freePort, waitFor } from '../test/helpers/daemon.ts'
import { agentmesh, expose, forward, trust } from '../test/helpers/services/mesh.ts'
import { startEchoServer } from '../test/helpers/services/tcp.ts'
import { connectionRate } from './lib/connection-rate.ts'
import { hrtimeUs, profiledMeshPair, writeProfileReport } from './lib/cpu-profile.ts'
import { DelayProxy } from './lib/delay-proxy.ts'
import { nebulaHosts } from './lib/nebula.ts'
import { firstByteMs, http2FirstByteMs } from './lib/first-byte.ts'
import { selfSignedCertificate } from './lib/certificate.ts'
import { runPart } from './lib/part.ts'
import { connectedPeers, cpuSecondsOf, daemon, meshPair, progress, sshd, sshForward } from './lib/setup.ts'
import { latencySummary, median, rotate, round } from './lib/stats.ts'
import type { ConnectionRate } from './lib/connection-rate.ts'
import type { Scope } from './lib/setup.ts'
import type { Target } from './lib/part.ts'
import type { TestDaemon } from '../test/helpers/daemon.ts'
import type { ServerHttp2Session } from 'node:http2'

const CONNECTIONS = 200
const ROUNDS = 4
/** connections per path before measuring: the daemons' hot paths compiled, as in a long-running node */
const WARM_UP = 50
/** one-way delay of the link for counting round trips */
const DELAY_MS = 40
/** samples per path and delay for the round-trip counts */
const RTT_SAMPLES = 7
/** new connections per second: clients at once, seconds per run, rounds */
const RATE_CLIENTS = 100
const RATE_SECONDS = 5
const RATE_ROUNDS = 3

const PATHS = ['direct', 'sshL', 'agentmesh'] as const
type Path = typeof PATHS[number]

/**
 * Round trips each path needs, by protocol (a network round trip is what the delay link
 * adds; the client's own TCP handshake with a local `ssh -L` or forward listener is on
 * loopback and not counted). agentmesh's tunnel stream is selected optimistically
 * (`src/node/patches/optimistic-select.ts`): the protocol id, the envelope and the first bytes
 * leave in one flight, and the echo, the status and the reply come back in one.
 */
const ANALYTIC_ROUND_TRIPS = {
  direct: { count: 2, why: 'TCP handshake; request and reply' },
  sshL: { count: 2, why: 'SSH_MSG_CHANNEL_OPEN and its confirmation (no data before the window is granted); request and reply' },
  agentmesh: { count: 1, why: 'protocol id, envelope and first byte together; multistream-select echo, status and reply back' },
  agentmeshCold: { count: 4, why: 'TCP handshake; multistream-select of /noise; noise XX messages 1-2 (message 3 leaves with the first stream frame; the muxer is chosen inside the handshake); then the tunnel stream as warm (1)' },
  http2TlsCold: { count: 3, why: 'TCP handshake; TLS 1.3 ClientHello to server Finished; client Finished with the HTTP/2 preface and request, response back' }
} as const

/** An HTTP/2-over-TLS server on 127.0.0.1 answering every request with a 1-byte body. */
async function http2Server (scope: Scope, tls: { key: string, cert: string }): Promise<number> {
  const server = createSecureServer(tls)
  server.on('stream', stream => {
    stream.respond({ ':status': 200 })
    stream.end('x')
  })
  const sessions = new Set<ServerHttp2Session>()
  server.on('session', session => {
    sessions.add(session)
    session.on('error', () => {})
    session.once('close', () => sessions.delete(session))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  scope.defer(async () => new Promise(resolve => {
    for (const session of sessions) session.destroy()
    server.close(resolve)
  }))
  return (server.address() as { port: number }).port
}

/** The cold pair: A2 reachable only through `proxy`, B2 forwarding to A2's echo service. Returns B2's forward port. */
async function coldPair (scope: Scope, echoTarget: string, listenPort: number, proxy: DelayProxy): Promise<{ a: TestDaemon, b: TestDaemon, port: number }> {
  const a = await daemon(scope, { listen: [`/ip4/127.0.0.1/tcp/${listenPort}`], args: ['--announce', `/ip4/127.0.0.1/tcp/${proxy.port}`, '--dht-mode', 'client'] })
  const b = await daemon(scope, { args: ['--dht-mode', 'client'] })
  const [aId, bId] = [(await a.id()).peerId, (await b.id()).peerId]
  await trust(a, bId)
  await trust(b, aId)
  await expose(a, 'echo', echoTarget)
  await agentmesh(b, ['ping', `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${aId}`, '--count', '1'])
  return { a, b, port: (await forward(b, aId, 'echo')).port }
}

await runPart(async scope => {
  const echo = await startEchoServer()
  scope.defer(async () => echo.close())
  const server = await sshd(scope)
  const pair = await meshPair(scope)
  const ssh = await sshForward(scope, server, echo.port)
  const ports: Record<Path, number> = {
    direct: echo.port,
    sshL: ssh.port,
    agentmesh: await pair.tunnel('echo', echo.target)
  }
  // the processes that carry each path besides the bench's own client and echo service
  const carriers: Record<Path, number[]> = { direct: [], sshL: [ssh.pid, server.process.pid as number], agentmesh: [pair.a.pid, pair.b.pid] }

  // 1. sequential new connections, warm paths, no added delay; and nebula's, where it runs
  const sequential: Record<string, { connections: (count: number) => Promise<number[]>, carriers: number[] }> = Object.fromEntries(PATHS.map(path =>
    [path, { connections: async (count: number) => firstByteMs(ports[path], count), carriers: carriers[path] }]))
  const nebula = await nebulaHosts(scope)
  if ('missing' in nebula) {
    progress('connections', `nebula not measured: ${nebula.missing}`)
  } else {
    sequential.link = { connections: async count => nebula.firstByteMs(nebula.addresses.link, count), carriers: [] }
    sequential.nebula = { connections: async count => nebula.firstByteMs(nebula.addresses.nebula, count), carriers: nebula.pids }
  }
  const sequentialPaths = Object.keys(sequential)
  const times: Record<string, number[]> = Object.fromEntries(sequentialPaths.map(path => [path, []]))
  const cpuUsed: Record<string, number> = Object.fromEntries(sequentialPaths.map(path => [path, 0]))
  for (const path of sequentialPaths) await sequential[path].connections(WARM_UP)
  for (let r = 0; r < ROUNDS; r++) {
    for (const path of rotate(sequentialPaths, r)) {
      const { connections, carriers: carrying } = sequential[path]
      const before = await cpuSecondsOf(carrying)
      times[path].push(...await connections(CONNECTIONS / ROUNDS))
      cpuUsed[path] += await cpuSecondsOf(carrying) - before
    }
  }
  const firstByte: Record<string, ReturnType<typeof latencySummary>> = Object.fromEntries(sequentialPaths.map(path => [path, latencySummary(times[path])]))
  // CPU time per connection holds up where latency does not when other work shares the cores (10 ms ticks, summed over all connections)
  const cpuMsPerConnection = Object.fromEntries(sequentialPaths.filter(path => sequential[path].carriers.length > 0).map(path => [path, round(cpuUsed[path] * 1000 / CONNECTIONS)]))
  progress('connections', `first byte p50: ${sequentialPaths.map(path => `${path} ${firstByte[path].p50} ms`).join(', ')}`)

  // 2. new connections per second, many clients at once
  const rates: Record<Path, ConnectionRate[]> = { direct: [], sshL: [], agentmesh: [] }
  const rateCpu: Record<Path, number> = { direct: 0, sshL: 0, agentmesh: 0 }
  for (const path of PATHS) await connectionRate(ports[path], RATE_CLIENTS, 1)
  for (let r = 0; r < RATE_ROUNDS; r++) {
    for (const path of rotate([...PATHS], r)) {
      const before = await cpuSecondsOf(carriers[path])
      const rate = await connectionRate(ports[path], RATE_CLIENTS, RATE_SECONDS)
      rateCpu[path] += await cpuSecondsOf(carriers[path]) - before
      rates[path].push(rate)
      progress('connections', `round ${r + 1}/${RATE_ROUNDS}, ${RATE_CLIENTS} clients, ${path}: ${Math.round(rate.perSecond)} connections/s${rate.failed === 0 ? '' : `, ${rate.failed} failed (${JSON.stringify(rate.errors)})`}`)
    }
  }
  const completed = (path: Path): number => rates[path].reduce((sum, rate) => sum + rate.completed, 0)
  const newConnectionsPerSecond = {
    clients: RATE_CLIENTS,
    secondsPerRun: RATE_SECONDS,
    rounds: RATE_ROUNDS,
    perSecond: Object.fromEntries(PATHS.map(path => [path, round(median(rates[path].map(rate => rate.perSecond)), 0)])) as Record<Path, number>,
    agentmeshVsSshL: round(median(rates.agentmesh.map((rate, i) => rate.perSecond / (rates.sshL[i] as ConnectionRate).perSecond))),
    failed: Object.fromEntries(PATHS.map(path => [path, rates[path].reduce((sum, rate) => sum + rate.failed, 0)])) as Record<Path, number>,
    runs: Object.fromEntries(PATHS.map(path => [path, rates[path].map(rate => ({ ...rate, perSecond: round(rate.perSecond, 0) }))])),
    cpuMsPerConnection: { sshL: round(rateCpu.sshL * 1000 / completed('sshL'), 3), agentmesh: round(rateCpu.agentmesh * 1000 / completed('agentmesh'), 3) }
  }

  // 3. round trips through the delay link
  const tls = await selfSignedCertificate(scope)
  const meshListenPort = await freePort()
  const proxies = {
    direct: await DelayProxy.start(echo.port),
    ssh: await DelayProxy.start(server.port),
    h2: await DelayProxy.start(await http2Server(scope, tls)),
    mesh: await DelayProxy.start(meshListenPort)
  }
  for (const proxy of Object.values(proxies)) scope.defer(async () => proxy.close())
  const meshProxy = proxies.mesh
  const cold = await coldPair(scope, echo.target, meshListenPort, meshProxy)
  const delayedPorts: Record<Path, number> = {
    direct: proxies.direct.port,
    sshL: (await sshForward(scope, server, echo.port, proxies.ssh.port)).port,
    agentmesh: cold.port
  }
  const setDelay = (ms: number): void => { for (const proxy of Object.values(proxies)) proxy.delayMs = ms }

  const coldStart = async (): Promise<number> => {
    meshProxy.destroyConnections()
    await waitFor('the cold pair to disconnect', async () => (await connectedPeers(cold.a)) === 0 && (await connectedPeers(cold.b)) === 0, 10_000, 25)
    const before = meshProxy.accepted
    const [ms] = await firstByteMs(cold.port, 1)
    if (meshProxy.accepted !== before + 1) throw new Error(`the cold start made ${meshProxy.accepted - before} connections through the delay link, not 1`)
    return ms as number
  }

  const kinds = ['direct', 'sshL', 'agentmesh', 'agentmeshCold', 'http2TlsCold'] as const
  type Kind = typeof kinds[number]
  const samples: Record<number, Record<Kind, number[]>> = {}
  for (const delay of [0, DELAY_MS]) samples[delay] = { direct: [], sshL: [], agentmesh: [], agentmeshCold: [], http2TlsCold: [] }
  const measure = async (kind: Kind): Promise<number> => {
    switch (kind) {
      case 'agentmeshCold': return coldStart()
      case 'http2TlsCold': return http2FirstByteMs(proxies.h2.port, tls.cert)
      default: {
        const [ms] = await firstByteMs(delayedPorts[kind], 1)
        return ms as number
      }
    }
  }
  // warm-up at no delay (JIT, and the warm paths' SSH and libp2p connections)
  setDelay(0)
  for (const kind of kinds) await measure(kind)
  await firstByteMs(cold.port, 1)
  for (let i = 0; i < RTT_SAMPLES; i++) {
    for (const delay of rotate([0, DELAY_MS], i)) {
      setDelay(delay)
      // the warm agentmesh path needs its peer connection, which the cold starts drop
      for (const kind of kinds) {
        if (kind === 'agentmesh') await firstByteMs(cold.port, 1)
        samples[delay]?.[kind].push(await measure(kind))
      }
    }
  }
  setDelay(0)
  const roundTrips = Object.fromEntries(kinds.map(kind => {
    const [t0, tD] = [median(samples[0]?.[kind] ?? []), median(samples[DELAY_MS]?.[kind] ?? [])]
    return [kind, {
      analytic: ANALYTIC_ROUND_TRIPS[kind].count,
      measured: round((tD - t0) / (2 * DELAY_MS), 1),
      msAtNoDelay: round(t0),
      msAtDelay: round(tD),
      why: ANALYTIC_ROUND_TRIPS[kind].why
    }]
  }))
  progress('connections', `round trips measured: ${kinds.map(kind => `${kind} ${roundTrips[kind]?.measured}`).join(', ')}`)

  // 4. the agentmesh run again on a profiled pair
  const profiled = await profiledMeshPair(scope, 100)
  const profiledPort = await profiled.tunnel('echo', echo.target)
  await firstByteMs(profiledPort, WARM_UP)
  const startUs = hrtimeUs()
  const profiledTimes = await firstByteMs(profiledPort, CONNECTIONS)
  const profiles = await profiled.summaries({ startUs, endUs: hrtimeUs() })
  const profile = await writeProfileReport('profile-connections.md', `CPU profile: ${CONNECTIONS} sequential new connections through an agentmesh forward`, 'connections', [
    'Both daemons ran with `node --cpu-prof --cpu-prof-interval=100` (0.1 ms sampling) while the bench opened',
    `${CONNECTIONS} connections one after another, each sending 1 byte to an echo service and reading it back`,
    `(p50 ${latencySummary(profiledTimes).p50} ms under the profiler; ${firstByte.agentmesh.p50} ms without it).`,
    'B is the forwarding side (accepts the local connection, opens the stream, sends the envelope);',
    'A is the exposing side (reads the envelope, connects to the service, answers).'
  ], profiles, { b: 'B (forward side)', a: 'A (expose side)' })

  const targets: Target[] = [{
    id: 'new-connection-p50',
    what: 'new connection to first echoed byte, warm peer connection: agentmesh p50 vs ssh -L p50',
    target: '<= ssh -L',
    value: `${firstByte.agentmesh.p50} ms vs ${firstByte.sshL.p50} ms`,
    met: firstByte.agentmesh.p50 <= firstByte.sshL.p50
  }, {
    id: 'new-connection-40ms-link',
    what: `the same over a link with ${DELAY_MS} ms each way (the user-space delay link, median of ${RTT_SAMPLES}): agentmesh vs ssh -L`,
    target: '<= ssh -L',
    value: `${roundTrips.agentmesh?.msAtDelay} ms vs ${roundTrips.sshL?.msAtDelay} ms`,
    met: (roundTrips.agentmesh?.msAtDelay ?? Infinity) <= (roundTrips.sshL?.msAtDelay ?? 0)
  }, {
    id: 'new-tunnels-per-second',
    what: `new connections per second through one forward, ${RATE_CLIENTS} clients at once opening short echo connections (median of ${RATE_ROUNDS} alternating ${RATE_SECONDS} s rounds): agentmesh vs ssh -L`,
    target: '>= ssh -L',
    value: `${newConnectionsPerSecond.perSecond.agentmesh}/s vs ${newConnectionsPerSecond.perSecond.sshL}/s (${newConnectionsPerSecond.agentmeshVsSshL}x)`,
    met: newConnectionsPerSecond.agentmeshVsSshL >= 1
  }]
  return {
    results: {
      connections: CONNECTIONS,
      rounds: ROUNDS,
      firstByteMs: firstByte,
      cpuMsPerConnection,
      nebula: 'missing' in nebula ? { missing: nebula.missing } : nebula.about,
      newConnectionsPerSecond,
      roundTrips: { delayMsEachWay: DELAY_MS, samples: RTT_SAMPLES, ...roundTrips },
      profile: { p50UnderProfiler: latencySummary(profiledTimes).p50, ...profile }
    },
    targets,
    files: [profile.file]
  }
})
