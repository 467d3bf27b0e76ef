/**
 * Daemon footprint: start-up time to the first listening address, RSS of an idle daemon,
 * and RSS with 20 connected peers. Informational; prints a JSON document.
 *
 *   npm run bench -- daemon-footprint
 */
import { readFile, rm } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { cliJson, TestDaemon, tempDir, waitFor } from '../test/helpers/daemon.ts'

const RUNS = 5
const PEERS = 20
const SETTLE_MS = 3000
const CLI = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')

async function rssKiB (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1])
}

/** Milliseconds from spawning `agentmesh start` to its "is up" line, printed once it listens. */
async function startupMs (): Promise<number> {
  const dataDir = await tempDir()
  const started = performance.now()
  const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] })
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
    child.kill('SIGTERM')
    await new Promise(resolve => child.once('exit', resolve))
    await rm(dataDir, { recursive: true, force: true })
  }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

const startups: number[] = []
for (let run = 0; run < RUNS; run++) startups.push(await startupMs())

const hub = await TestDaemon.start({ args: ['--log-level', 'warn'] })
const peers: TestDaemon[] = []
try {
  await sleep(SETTLE_MS)
  const idleKiB = await rssKiB(hub.pid)
  const { addresses } = await hub.id()
  for (let i = 0; i < PEERS; i++) peers.push(await TestDaemon.start({ bootstrap: addresses, args: ['--log-level', 'warn'] }))
  await waitFor(`${PEERS} connected peers`, async () => (await cliJson(hub.dataDir, ['status'])).peers >= PEERS, 30_000)
  await sleep(SETTLE_MS)
  const withPeersKiB = await rssKiB(hub.pid)
  console.log(JSON.stringify({
    node: process.version,
    startupMs: { median: Math.round(median(startups)), runs: startups.map(Math.round) },
    idleRssMiB: Math.round(idleKiB / 1024 * 10) / 10,
    rssWith20PeersMiB: Math.round(withPeersKiB / 1024 * 10) / 10,
    kibPerPeer: Math.round((withPeersKiB - idleKiB) / PEERS)
  }, null, 2))
} finally {
  await Promise.all([hub, ...peers].map(async daemon => daemon.destroy()))
}
