import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { resolveDataDir } from '../../src/config/data-dir.ts'
import { ControlClient } from '../../src/control/client.ts'
import type { ChildProcess } from 'node:child_process'

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'agentmesh.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `agentmesh <args>` as a user would, with the project's Node, and never throws for a failing exit. */
export async function cli (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise(resolve => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err: any, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr })
    })
  })
}

/** `agentmesh <args> --json` against a data directory, parsed; fails the test on a non-zero exit. */
export async function cliJson<T = any> (dataDir: string, args: string[]): Promise<T> {
  const result = await cli([...args, '--data-dir', dataDir, '--json'])
  if (result.code !== 0) throw new Error(`agentmesh ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return JSON.parse(result.stdout)
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false, for at most `timeoutMs`. */
export async function waitFor<T> (what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (err) {
      last = err
    }
    await sleep(intervalMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last == null ? '' : `: ${String(last)}`}`)
}

export async function tempDir (prefix = 'agentmesh-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

/** A TCP port that was free a moment ago, for daemons that must keep their address across a restart. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

export interface DaemonOptions {
  dataDir?: string
  /** defaults to an ephemeral port on 127.0.0.1 */
  listen?: string[]
  bootstrap?: string[]
  args?: string[]
  env?: NodeJS.ProcessEnv
}

/** A daemon run as a child process, the way `npm start` runs it. */
export class TestDaemon {
  readonly dataDir: string
  readonly process: ChildProcess
  stdout = ''
  stderr = ''
  private readonly exited: Promise<number | null>

  private constructor (dataDir: string, child: ChildProcess) {
    this.dataDir = dataDir
    this.process = child
    child.stdout?.on('data', chunk => { this.stdout += chunk })
    child.stderr?.on('data', chunk => { this.stderr += chunk })
    this.exited = new Promise(resolve => child.once('exit', code => { resolve(code) }))
  }

  /** Starts a daemon and waits until its control API answers; a daemon that does not is killed. */
  static async start (options: DaemonOptions = {}): Promise<TestDaemon> {
    const dataDir = options.dataDir ?? await tempDir()
    const args = [CLI, 'start', '--data-dir', dataDir, '--log-format', 'json']
    for (const address of options.listen ?? ['/ip4/127.0.0.1/tcp/0']) args.push('--listen', address)
    for (const address of options.bootstrap ?? []) args.push('--bootstrap', address)
    args.push(...options.args ?? [])
    const child = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    const daemon = new TestDaemon(dataDir, child)
    const client = new ControlClient(resolveDataDir(dataDir, {}))
    try {
      await waitFor(`the daemon on ${dataDir} to answer`, async () => {
        if (child.exitCode != null) throw new Error(`daemon exited ${child.exitCode}: ${daemon.stderr}`)
        // its own answer: a daemon already running on this data directory answers too, while this one exits
        return (await client.status()).pid === child.pid ? true : undefined
      }, 20_000, 100)
    } catch (err) {
      await daemon.stop('SIGKILL')
      throw err
    }
    return daemon
  }

  get pid (): number {
    return this.process.pid as number
  }

  async id (): Promise<{ peerId: string, addresses: string[] }> {
    return cliJson(this.dataDir, ['id'])
  }

  /** SIGTERM, then SIGKILL if it has not exited within 10 s; resolves to the exit code. */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.process.exitCode == null && this.process.signalCode == null) process.kill(this.pid, signal)
    const timer = setTimeout(() => { try { process.kill(this.pid, 'SIGKILL') } catch {} }, 10_000)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  /** Stops the daemon and removes its data directory. */
  async destroy (): Promise<void> {
    await this.stop()
    await rm(this.dataDir, { recursive: true, force: true })
  }
}
