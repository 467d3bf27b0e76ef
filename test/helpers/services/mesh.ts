/**
 * Daemons wired for tunnels, through the CLI only: a pair that trusts each
 * other, and wrappers for `expose`, `forward` and the counters they report.
 */

import { cli, cliJson, TestDaemon } from '../daemon.ts'
import type { DaemonOptions } from '../daemon.ts'
import type { ForwardView, ServiceView, TrustedPeer, TunnelStatsView } from '../../../src/control/api.ts'

export interface Forward extends ForwardView {
  /** the port of `listen` */
  port: number
}

/** Runs `agentmesh <args> --data-dir <daemon's>` and throws with its stderr if it exits non-zero. */
export async function agentmesh (daemon: TestDaemon, args: string[]): Promise<string> {
  const result = await cli([...args, '--data-dir', daemon.dataDir])
  if (result.code !== 0) throw new Error(`agentmesh ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`)
  return result.stdout
}

export async function trust (daemon: TestDaemon, peerId: string, name?: string): Promise<void> {
  await agentmesh(daemon, ['trust', 'add', peerId, ...name == null ? [] : ['--name', name]])
}

export async function expose (daemon: TestDaemon, service: string, target: string, proto?: 'tcp' | 'http' | 'grpc' | 'ssh'): Promise<void> {
  await agentmesh(daemon, ['expose', service, target, ...proto == null ? [] : ['--proto', proto]])
}

/** `agentmesh forward <listen> <peerId>/<service> --json`; `listen` defaults to port 0 on 127.0.0.1. */
export async function forward (daemon: TestDaemon, peerId: string, service: string, listen = '0'): Promise<Forward> {
  const view = await cliJson<ForwardView>(daemon.dataDir, ['forward', listen, `${peerId}/${service}`])
  const port = Number(/:(\d+)$/.exec(view.listen)?.[1])
  if (!(port > 0)) throw new Error(`forward printed no bound port: ${JSON.stringify(view)}`)
  return { ...view, port }
}

export async function services (daemon: TestDaemon): Promise<ServiceView[]> {
  return cliJson<ServiceView[]>(daemon.dataDir, ['services'])
}

export async function forwards (daemon: TestDaemon): Promise<ForwardView[]> {
  return cliJson<ForwardView[]>(daemon.dataDir, ['forwards'])
}

export async function trusted (daemon: TestDaemon): Promise<TrustedPeer[]> {
  return cliJson<TrustedPeer[]>(daemon.dataDir, ['trust', 'ls'])
}

export async function serviceView (daemon: TestDaemon, name: string): Promise<ServiceView> {
  const view = (await services(daemon)).find(service => service.name === name)
  if (view == null) throw new Error(`no service '${name}' in \`agentmesh services\``)
  return view
}

export async function forwardView (daemon: TestDaemon, port: number): Promise<ForwardView> {
  const view = (await forwards(daemon)).find(entry => entry.listen.endsWith(`:${port}`))
  if (view == null) throw new Error(`no forward on port ${port} in \`agentmesh forwards\``)
  return view
}

export function failureCount (failures: TunnelStatsView['failures']): number {
  return Object.values(failures).reduce((sum, count) => sum + count, 0)
}

export interface Pair {
  /** the node that exposes services */
  a: TestDaemon
  /** the node that forwards to them */
  b: TestDaemon
  aId: string
  bId: string
}

/** Starts A, then B bootstrapped from A, and makes each trust the other. */
export async function startTrustedPair (options: { a?: DaemonOptions, b?: DaemonOptions } = {}): Promise<Pair> {
  const a = await TestDaemon.start(options.a)
  let b: TestDaemon | undefined
  try {
    const aIdentity = await a.id()
    b = await TestDaemon.start({ ...options.b, bootstrap: aIdentity.addresses })
    const bId = (await b.id()).peerId
    await trust(a, bId, 'b')
    await trust(b, aIdentity.peerId, 'a')
    return { a, b, aId: aIdentity.peerId, bId }
  } catch (err) {
    await Promise.all([a.destroy(), b?.destroy()])
    throw err
  }
}
