/**
 * Nebula side by side: Debian's `nebula` (an L3 overlay over UDP, what a user might pick
 * instead of agentmesh) between two hosts in network namespaces the bench creates
 * (test/natlab/lab.ts: two sites on one bridge, A at 11.0.0.10 and B at 11.0.0.11), A
 * its lighthouse, with a CA and a certificate per host made by `nebula-cert` in a
 * temporary directory, and tun addresses 192.168.100.1 (A) and .2 (B). The parts run
 * their servers in A and their clients in B, to A's nebula address and, as nebula's raw
 * baseline, to A's address on the link nebula runs over.
 *
 * Where the machine cannot run it (not root, no nebula, no /dev/net/tun, `ip netns`
 * failing, nebula not connecting), `nebulaHosts` says why in one line instead. Everything
 * it starts is stopped by pid, and the namespaces removed, when the scope closes.
 */

import { constants } from 'node:fs'
import { access, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, waitFor } from '../../test/helpers/daemon.ts'
import { NatLab } from '../../test/natlab/lab.ts'
import { run } from '../../test/helpers/services/process.ts'
import { missingTool } from '../../test/helpers/services/tools.ts'
import { progress } from './setup.ts'
import type { RunOptions, RunResult } from '../../test/helpers/services/process.ts'
import type { Scope } from './setup.ts'

const NEBULA_PORT = 4242
const OVERLAY = { a: '192.168.100.1', b: '192.168.100.2' }
/** the echo service's port in A */
export const NEBULA_ECHO_PORT = 7007
const NETNS_TCP = join(import.meta.dirname, 'netns-tcp.ts')
/** from nebula's start to the first echo over its tunnel */
const CONNECT_TIMEOUT_MS = 20_000

export interface NebulaHosts {
  /** nebula's version and how the hosts are set up, for the results */
  about: { version: string, setup: string }
  /** A's address over nebula, and on the link under it */
  addresses: { nebula: string, link: string }
  /** the two nebula processes: what carries the nebula path */
  pids: number[]
  /** Starts `command args` in A, stopped by pid when the scope closes. */
  serve(command: string, args: string[]): void
  /** Runs `command args` in B, bounded by `options.timeoutMs`. */
  run(command: string, args: string[], options: RunOptions): Promise<RunResult>
  /** `count` sequential new connections from B to the echo service on A at `host`: each one's time to the first echoed byte, in ms. */
  firstByteMs(host: string, count: number): Promise<number[]>
}

/** Why nebula cannot run on this machine before anything is started, or false. */
async function missing (): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'not root: nebula needs network namespaces and tun devices'
  const tool = missingTool('nebula', 'nebula') || missingTool('nebula-cert', 'nebula') || missingTool('ip', 'iproute2')
  if (tool !== false) return tool
  try {
    await access('/dev/net/tun', constants.R_OK | constants.W_OK)
  } catch {
    return 'no /dev/net/tun: nebula cannot create its tun device'
  }
  return false
}

async function nebulaCert (dir: string, args: string[]): Promise<void> {
  const result = await run('nebula-cert', args, { timeoutMs: 20_000, cwd: dir })
  if (result.code !== 0) throw new Error(`nebula-cert ${args[0]} failed: ${result.stderr.trim() || result.stdout.trim()}`)
}

/** Nebula's configuration for a host (YAML, written as JSON, which YAML reads). */
function config (dir: string, host: 'a' | 'b', linkA: string): string {
  const allowAll = [{ port: 'any', proto: 'any', host: 'any' }]
  return JSON.stringify({
    pki: { ca: join(dir, 'ca.crt'), cert: join(dir, `${host}.crt`), key: join(dir, `${host}.key`) },
    static_host_map: host === 'a' ? {} : { [OVERLAY.a]: [`${linkA}:${NEBULA_PORT}`] },
    lighthouse: host === 'a' ? { am_lighthouse: true } : { am_lighthouse: false, interval: 60, hosts: [OVERLAY.a] },
    listen: { host: '0.0.0.0', port: NEBULA_PORT },
    tun: { dev: 'nebula1' },
    logging: { level: 'info' },
    firewall: { outbound: allowAll, inbound: allowAll }
  })
}

/** Nebula's two hosts, connected, with an echo service on A; or the one-line reason they cannot run here. */
export async function nebulaHosts (scope: Scope): Promise<NebulaHosts | { missing: string }> {
  const reason = await missing()
  if (reason !== false) return { missing: reason }
  const version = (await run('nebula', ['-version'], { timeoutMs: 10_000 })).stdout.replace('Version:', '').trim()
  let lab: NatLab
  try {
    lab = await NatLab.create([{ name: 'a', kind: 'public' }, { name: 'b', kind: 'public' }])
  } catch (err: any) {
    return { missing: `network namespaces failed: ${String(err.message).split('\n')[0]}` }
  }
  scope.defer(async () => lab.destroy())
  const dir = await tempDir('agentmesh-bench-nebula-')
  scope.defer(async () => rm(dir, { recursive: true, force: true }))
  const linkA = lab.site('a').address
  await nebulaCert(dir, ['ca', '-name', 'agentmesh bench', '-duration', '24h', '-out-crt', 'ca.crt', '-out-key', 'ca.key'])
  const logs: Record<string, string> = { a: '', b: '' }
  const pids: number[] = []
  for (const host of ['a', 'b'] as const) {
    await nebulaCert(dir, ['sign', '-ca-crt', 'ca.crt', '-ca-key', 'ca.key', '-name', host, '-ip', `${OVERLAY[host]}/24`, '-out-crt', `${host}.crt`, '-out-key', `${host}.key`])
    await writeFile(join(dir, `${host}.yml`), config(dir, host, linkA))
    const child = lab.spawn(host, 'nebula', ['-config', join(dir, `${host}.yml`)], { stdio: ['ignore', 'pipe', 'pipe'] })
    // the last lines of its log, for the reason if it does not connect
    const keep = (chunk: Buffer): void => { logs[host] = (logs[host] + chunk.toString()).slice(-2000) }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    pids.push(child.pid as number)
  }
  const hosts: NebulaHosts = {
    about: { version, setup: 'two network namespaces, each a veth pair (MTU 1500) to one bridge; nebula with its defaults otherwise (tun MTU 1300, AES-256-GCM)' },
    addresses: { nebula: OVERLAY.a, link: linkA },
    pids,
    serve: (command, args) => { lab.spawn('a', command, args, { stdio: 'ignore' }) },
    run: async (command, args, options) => run('ip', ['netns', 'exec', lab.site('b').namespace, command, ...args], options),
    async firstByteMs (host, count) {
      const result = await hosts.run(process.execPath, [NETNS_TCP, 'first-byte', host, String(NEBULA_ECHO_PORT), String(count)], { timeoutMs: 10_000 + count * 1_000 })
      if (result.code !== 0) throw new Error(`connections from B to ${host}:${NEBULA_ECHO_PORT} failed: ${result.stderr.trim().split('\n').at(-1)}`)
      return JSON.parse(result.stdout) as number[]
    }
  }
  hosts.serve(process.execPath, [NETNS_TCP, 'echo', String(NEBULA_ECHO_PORT)])
  try {
    // the first packet starts nebula's handshake through the lighthouse: a SYN may be lost to it and retried
    await waitFor('an echo over nebula', async () => (await hosts.firstByteMs(OVERLAY.a, 1)).length === 1, CONNECT_TIMEOUT_MS, 250)
  } catch (err: any) {
    const tail = (logs.b || logs.a || '').trim().split('\n').at(-1) ?? ''
    return { missing: `nebula did not connect A and B within ${CONNECT_TIMEOUT_MS / 1000} s (${String(err.message).split('\n')[0]}; its last log line: ${tail.slice(0, 300)})` }
  }
  progress('nebula', `nebula ${version} connected between network namespaces: A at ${OVERLAY.a} over nebula, ${linkA} on the link under it`)
  return hosts
}
