/**
 * What the benchmark parts set up, in one place: a scope that stops everything it
 * started (by pid, in reverse order), background tools (iperf3, ssh -L), the test sshd,
 * daemons and a trusted daemon pair driven through the CLI, and RSS readings.
 */

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir, readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { resolveDataDir } from '../../src/config/data-dir.ts'
import { ControlClient } from '../../src/control/client.ts'
import { freePort, TestDaemon, waitFor } from '../../test/helpers/daemon.ts'
import { expose, forward, startTrustedPair } from '../../test/helpers/services/mesh.ts'
import { rssBytes } from '../../test/helpers/services/rss.ts'
import { startSshd } from '../../test/helpers/services/sshd.ts'
import { median } from './stats.ts'
import type { DaemonOptions } from '../../test/helpers/daemon.ts'
import type { Sshd } from '../../test/helpers/services/sshd.ts'
import type { ChildProcess } from 'node:child_process'

/** Daemons in the benchmarks log warnings and errors only. */
export const DAEMON_ARGS = ['--log-level', 'warn']

/** One progress line on stderr (stdout carries the part's JSON). */
export function progress (part: string, message: string): void {
  process.stderr.write(`  [${part} ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

/** Everything a part started; `close()` undoes it in reverse order, each step bounded. */
export class Scope {
  private readonly undo: Array<() => Promise<unknown> | unknown> = []

  defer (step: () => Promise<unknown> | unknown): void {
    this.undo.push(step)
  }

  /** Spawns `command args` with no stdio; stopped by pid (SIGTERM, then SIGKILL after 3 s) at close. */
  background (command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const child = spawn(command, args, { stdio: 'ignore', env: { ...process.env, ...options.env } })
    child.once('error', err => { progress('setup', `${command} failed to start: ${err.message}`) })
    this.defer(async () => stopChild(child))
    return child
  }

  async close (): Promise<void> {
    for (const step of this.undo.splice(0).reverse()) {
      try {
        await step()
      } catch (err: any) {
        process.stderr.write(`  cleanup step failed: ${err.message}\n`)
      }
    }
  }
}

/** SIGTERM by pid, SIGKILL if it has not exited within `graceMs`. */
export async function stopChild (child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.pid == null || child.exitCode != null || child.signalCode != null) return
  const exited = once(child, 'exit')
  try { process.kill(child.pid, 'SIGTERM') } catch { return }
  const timer = setTimeout(() => { try { process.kill(child.pid as number, 'SIGKILL') } catch {} }, graceMs)
  await exited
  clearTimeout(timer)
}

/** Waits (at most 10 s) until 127.0.0.1:port accepts connections. */
export async function accepting (port: number): Promise<void> {
  await waitFor(`127.0.0.1:${port} to accept`, async () => new Promise<boolean>(resolve => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { resolve(false) })
  }), 10_000, 50)
}

/** An iperf3 server on a free port of 127.0.0.1. */
export async function iperfServer (scope: Scope): Promise<number> {
  const port = await freePort()
  scope.background('iperf3', ['-s', '-B', '127.0.0.1', '-p', String(port)])
  await accepting(port)
  return port
}

/** The test sshd (OpenSSH, its own keys and config), stopped with the scope. */
export async function sshd (scope: Scope): Promise<Sshd> {
  const server = await startSshd()
  scope.defer(async () => server.stop())
  return server
}

/**
 * `ssh -N -L <free port>:127.0.0.1:<targetPort>` to the test sshd, OpenSSH defaults
 * otherwise; `sshPort` lets the SSH connection go through a proxy in front of sshd.
 * Returns the local port and the ssh client's pid.
 */
export async function sshForward (scope: Scope, server: Sshd, targetPort: number, sshPort = server.port): Promise<{ port: number, pid: number }> {
  const port = await freePort()
  const client = scope.background('ssh', ['-N', '-L', `${port}:127.0.0.1:${targetPort}`, ...server.clientOptions(), '-p', String(sshPort), `${server.user}@127.0.0.1`])
  await accepting(port)
  return { port, pid: client.pid as number }
}

/** A daemon (`agentmesh start`, logging warnings only), destroyed with the scope. */
export async function daemon (scope: Scope, options: DaemonOptions = {}): Promise<TestDaemon> {
  const started = await TestDaemon.start({ ...options, args: [...DAEMON_ARGS, ...options.args ?? []] })
  scope.defer(async () => started.destroy())
  return started
}

export interface MeshPair {
  /** exposes the services */
  a: TestDaemon
  /** forwards to them */
  b: TestDaemon
  aId: string
  bId: string
  /** `agentmesh expose <name> <target>` on A, then `agentmesh forward 0 <A>/<name>` on B: the forward's port */
  tunnel(name: string, target: string): Promise<number>
}

/** Two daemons that trust each other, B bootstrapped from A, driven through the CLI. */
export async function meshPair (scope: Scope, options: { env?: NodeJS.ProcessEnv, args?: string[] } = {}): Promise<MeshPair> {
  const daemonOptions = { env: options.env, args: [...DAEMON_ARGS, ...options.args ?? []] }
  const pair = await startTrustedPair({ a: daemonOptions, b: daemonOptions })
  scope.defer(async () => Promise.all([pair.a.destroy(), pair.b.destroy()]))
  return {
    ...pair,
    async tunnel (name, target) {
      await expose(pair.a, name, target)
      return (await forward(pair.b, pair.aId, name)).port
    }
  }
}

/** The daemon's control API client (the same calls the CLI makes). */
export function control (target: TestDaemon): ControlClient {
  return new ControlClient(resolveDataDir(target.dataDir, {}))
}

/** The connected-peer count the daemon reports in `status`. */
export async function connectedPeers (target: TestDaemon): Promise<number> {
  return (await control(target).status()).peers
}

/**
 * RSS in KiB of each pid, once the processes have settled: waits `settleMs`, then takes
 * the median of `samples` readings `intervalMs` apart (V8 grows and trims its heap in steps).
 */
export async function settledRssKiB (pids: number[], options: { settleMs?: number, samples?: number, intervalMs?: number } = {}): Promise<number[]> {
  await sleep(options.settleMs ?? 3_000)
  const readings: number[][] = pids.map(() => [])
  for (let i = 0; i < (options.samples ?? 5); i++) {
    if (i > 0) await sleep(options.intervalMs ?? 200)
    const rss = await Promise.all(pids.map(async pid => rssBytes(pid)))
    rss.forEach((bytes, index) => readings[index]?.push(bytes / 1024))
  }
  return readings.map(values => Math.round(median(values)))
}

/** CPU seconds that `pids` and their descendants have used so far, together. */
export async function cpuSecondsOf (pids: number[]): Promise<number> {
  return (await Promise.all(pids.map(treeCpuSeconds))).reduce((sum, value) => sum + value, 0)
}

/** CPU time (user + system) in seconds that `pid` and all its descendants have used so far (Linux /proc; clock ticks of 10 ms). */
export async function treeCpuSeconds (pid: number): Promise<number> {
  let total = 0
  const visit = async (id: number): Promise<void> => {
    try {
      const stat = await readFile(`/proc/${id}/stat`, 'utf8')
      // fields after the command name, which is in parentheses and may contain spaces
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) / 100
      for (const task of await readdir(`/proc/${id}/task`)) {
        const children = (await readFile(`/proc/${id}/task/${task}/children`, 'utf8')).trim()
        for (const child of children === '' ? [] : children.split(' ')) await visit(Number(child))
      }
    } catch {
      // the process ended in between: its time is gone with it
    }
  }
  await visit(pid)
  return total
}
