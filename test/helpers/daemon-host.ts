/**
 * A process running several daemons (test/helpers/daemon-host-main.ts): a 50-member mesh
 * as 50 processes does not start on this 2-core machine (each process type-strips and
 * loads libp2p on its own, and past about 30 a new one's control API no longer answers
 * within its start bound), while 10 processes of 5 daemons do. Each daemon is driven
 * through its own control socket, as a separate one would be.
 */
import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DAEMON_V8_FLAGS } from '../../src/daemon/v8-flags.ts'
import { tempDir } from './daemon.ts'
import type { ChildProcess } from 'node:child_process'

const MAIN = join(import.meta.dirname, 'daemon-host-main.ts')
/** SIGKILL after this long without an exit on SIGTERM */
const STOP_TIMEOUT_MS = 15_000

export interface HostOptions {
  count: number
  bootstrap: string[]
  /** each daemon's metrics listener (host:port), one per daemon */
  metrics: string[]
  /** how long all of them may take to answer */
  startTimeoutMs: number
}

export class DaemonHost {
  readonly dataDirs: string[]
  readonly process: ChildProcess
  stderr = ''
  private readonly exited: Promise<number | null>

  private constructor (dataDirs: string[], child: ChildProcess) {
    this.dataDirs = dataDirs
    this.process = child
    child.stderr?.on('data', chunk => { this.stderr += chunk })
    this.exited = new Promise(resolve => child.once('exit', code => { resolve(code) }))
  }

  /** Starts `count` daemons in one process and waits until each has said it is ready. */
  static async start ({ count, bootstrap, metrics, startTimeoutMs }: HostOptions): Promise<DaemonHost> {
    const dataDirs = await Promise.all(Array.from({ length: count }, async () => tempDir()))
    const daemons = dataDirs.map((dataDir, index) => ({
      dataDir,
      flags: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, log: { format: 'json' }, metrics: { listen: metrics[index] } }
    }))
    const child = spawn(process.execPath, [...DAEMON_V8_FLAGS, MAIN, JSON.stringify(daemons)], { stdio: ['ignore', 'pipe', 'pipe'] })
    const host = new DaemonHost(dataDirs, child)
    try {
      await new Promise<void>((resolve, reject) => {
        let stdout = ''
        const timer = setTimeout(() => { reject(new Error(`${count} hosted daemons not ready within ${startTimeoutMs} ms: ${host.stderr.slice(-2000)}`)) }, startTimeoutMs)
        child.stdout?.on('data', chunk => {
          stdout += chunk
          if (stdout.split('\n').filter(line => line.startsWith('ready ')).length === count) {
            clearTimeout(timer)
            resolve()
          }
        })
        child.once('exit', code => {
          clearTimeout(timer)
          reject(new Error(`daemon host exited ${code}: ${host.stderr.slice(-2000)}`))
        })
      })
    } catch (err) {
      await host.destroy()
      throw err
    }
    return host
  }

  get pid (): number {
    return this.process.pid as number
  }

  /** SIGTERM (each daemon stops cleanly), SIGKILL after 15 s; then the data directories go. */
  async destroy (): Promise<void> {
    if (this.process.exitCode == null && this.process.signalCode == null) process.kill(this.pid, 'SIGTERM')
    const timer = setTimeout(() => { try { process.kill(this.pid, 'SIGKILL') } catch {} }, STOP_TIMEOUT_MS)
    try {
      await this.exited
    } finally {
      clearTimeout(timer)
    }
    await Promise.all(this.dataDirs.map(async dataDir => rm(dataDir, { recursive: true, force: true })))
  }
}
