/**
 * Tunnel figures, side by side in one run (informational):
 * - iperf3 single-flow throughput: raw loopback vs `ssh -L` (OpenSSH defaults) vs an
 *   agentmesh forward between two daemons; median of 3 alternating rounds;
 * - time to the first byte of a new tunnelled connection over a warm peer connection:
 *   200 sequential connections each sending 1 byte to an echo service and reading it
 *   back, p50/p99, for the same three paths.
 *
 *   npm run bench -- tunnel
 */
import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, TestDaemon, waitFor } from '../test/helpers/daemon.ts'
import { expose, forward, trust } from '../test/helpers/services/mesh.ts'
import { run } from '../test/helpers/services/process.ts'
import { startSshd } from '../test/helpers/services/sshd.ts'
import { startEchoServer } from '../test/helpers/services/tcp.ts'
import type { ChildProcess } from 'node:child_process'

const ROUNDS = 3
const IPERF_SECONDS = 4
const CONNECTIONS = 200

const children: ChildProcess[] = []
function background (command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore' })
  children.push(child)
  return child
}

async function accepting (port: number): Promise<void> {
  await waitFor(`127.0.0.1:${port} to accept`, async () => new Promise<boolean>(resolve => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { resolve(false) })
  }), 10_000, 100)
}

/** `ssh -N -L` from a free local port to `targetPort`, through the test sshd. */
async function sshForward (sshd: Awaited<ReturnType<typeof startSshd>>, targetPort: number): Promise<number> {
  const port = await freePort()
  background('ssh', ['-N', '-L', `${port}:127.0.0.1:${targetPort}`, ...sshd.clientOptions(), '-p', String(sshd.port), `${sshd.user}@127.0.0.1`])
  await accepting(port)
  return port
}

async function iperfBitsPerSecond (port: number): Promise<number> {
  const result = await run('iperf3', ['-c', '127.0.0.1', '-p', String(port), '-t', String(IPERF_SECONDS), '-J'], { timeoutMs: (IPERF_SECONDS + 20) * 1000 })
  if (result.code !== 0) throw new Error(`iperf3 through port ${port} failed: ${result.stdout.slice(0, 500)} ${result.stderr}`)
  return JSON.parse(result.stdout).end.sum_received.bits_per_second
}

/** Milliseconds from connect() to the echoed byte, for `count` sequential connections. */
async function firstByteMs (port: number, count: number): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    times.push(await new Promise<number>((resolve, reject) => {
      const started = performance.now()
      const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => { socket.write('x') })
      socket.setTimeout(10_000, () => { socket.destroy(new Error('no echo within 10 s')) })
      socket.once('data', () => {
        resolve(performance.now() - started)
        socket.destroy()
      })
      socket.once('error', reject)
    }))
  }
  return times
}

function quantile (values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}

const round2 = (value: number): number => Math.round(value * 100) / 100

const a = await TestDaemon.start({ args: ['--log-level', 'warn'] })
const b = await TestDaemon.start({ bootstrap: (await a.id()).addresses, args: ['--log-level', 'warn'] })
const sshd = await startSshd()
const echo = await startEchoServer()
try {
  const [aId, bId] = [(await a.id()).peerId, (await b.id()).peerId]
  await trust(a, bId)
  await trust(b, aId)

  const iperfPort = await freePort()
  background('iperf3', ['-s', '-p', String(iperfPort)])
  await accepting(iperfPort)
  await expose(a, 'iperf', `127.0.0.1:${iperfPort}`)
  await expose(a, 'echo', echo.target)
  const bulkPaths = { raw: iperfPort, sshL: await sshForward(sshd, iperfPort), agentmesh: (await forward(b, aId, 'iperf')).port }
  const echoPaths = { raw: echo.port, sshL: await sshForward(sshd, echo.port), agentmesh: (await forward(b, aId, 'echo')).port }

  const bulk: Record<string, number[]> = { raw: [], sshL: [], agentmesh: [] }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [path, port] of Object.entries(bulkPaths)) {
      bulk[path]?.push(await iperfBitsPerSecond(port))
      await sleep(500)
    }
  }
  const firstByte: Record<string, number[]> = {}
  for (const [path, port] of Object.entries(echoPaths)) {
    await firstByteMs(port, 5) // warm-up: the peer connection and the code paths
    firstByte[path] = await firstByteMs(port, CONNECTIONS)
  }

  const gbps = (path: string): number => round2(quantile(bulk[path] ?? [], 0.5) / 1e9)
  console.log(JSON.stringify({
    bulkSingleFlowGbps: { raw: gbps('raw'), sshL: gbps('sshL'), agentmesh: gbps('agentmesh'), rounds: bulk },
    agentmeshVsSshL: round2(gbps('agentmesh') / gbps('sshL')),
    firstByteMs: Object.fromEntries(Object.entries(firstByte).map(([path, times]) => [path, { p50: round2(quantile(times, 0.5)), p99: round2(quantile(times, 0.99)) }]))
  }, null, 2))
} finally {
  for (const child of children) child.kill('SIGTERM')
  await Promise.all([sshd.stop(), echo.close(), a.destroy(), b.destroy()])
}
