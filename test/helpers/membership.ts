/**
 * Membership fixtures driven through the CLI only, in the order a user can act:
 * daemons start, their peer ids are read with `id --json`, then the admin creates
 * the network, invites each node by that id, and each joins with its token.
 */
import { join } from 'node:path'
import { createConnection } from 'node:net'
import { loadOrCreateIdentity } from '../../src/identity/key-file.ts'
import { cli, cliJson, waitFor } from './daemon.ts'
import { startInProcessNode } from './mesh-node.ts'
import { agentmesh } from './services/mesh.ts'
import type { CliResult, TestDaemon } from './daemon.ts'
import type { InProcessNode } from './mesh-node.ts'
import type { ForwardView, MemberView, NetworkView, PeerView } from '../../src/control/api.ts'

/** `agentmesh <args> --data-dir <daemon's>`, whatever its exit status. */
export async function run (daemon: TestDaemon, args: string[]): Promise<CliResult> {
  return cli([...args, '--data-dir', daemon.dataDir])
}

export async function networksOf (daemon: TestDaemon): Promise<NetworkView[]> {
  return cliJson<NetworkView[]>(daemon.dataDir, ['network', 'ls'])
}

export async function membersOf (daemon: TestDaemon): Promise<MemberView[]> {
  return cliJson<MemberView[]>(daemon.dataDir, ['members'])
}

export async function peersOf (daemon: TestDaemon): Promise<PeerView[]> {
  return cliJson<PeerView[]>(daemon.dataDir, ['peers'])
}

/** `invite <peerId> --name <name> [extra]` on the admin: the token, alone on stdout. */
export async function invite (admin: TestDaemon, peerId: string, name: string, extra: string[] = []): Promise<string> {
  const token = (await agentmesh(admin, ['invite', peerId, '--name', name, ...extra])).trim()
  if (!token.startsWith('amtok1_') || token.includes('\n')) throw new Error(`invite printed more than a token: ${token}`)
  return token
}

/** Invites `member` and has it join with the token. */
export async function enrol (admin: TestDaemon, member: TestDaemon, name: string, extra: string[] = []): Promise<void> {
  const token = await invite(admin, (await member.id()).peerId, name, extra)
  await agentmesh(member, ['join', token])
}

/** Waits until `daemon` holds a revocation list of `network` at `version` or newer. */
export async function waitForRevocations (daemon: TestDaemon, version: number, timeoutMs: number, network?: string): Promise<number> {
  return waitFor(`${daemon.dataDir} to hold revocation list v${version}`, async () => {
    const entry = (await networksOf(daemon)).find(n => network == null || n.name === network)
    return entry != null && entry.revocationsVersion >= version ? entry.revocationsVersion : undefined
  }, timeoutMs, 200)
}

/** `forward <listen> <target> [--network N] --json` on `daemon`: the bound port and the peer it resolved to. */
export async function forwardTo (daemon: TestDaemon, target: string, options: { network?: string, listen?: string } = {}): Promise<{ port: number, peer: string, service: string }> {
  const view = await cliJson<ForwardView>(daemon.dataDir, [
    'forward', options.listen ?? '0', target, ...options.network == null ? [] : ['--network', options.network]
  ])
  const port = Number(/:(\d+)$/.exec(view.listen)?.[1])
  if (!(port > 0)) throw new Error(`forward printed no bound port: ${JSON.stringify(view)}`)
  return { port, peer: view.peer, service: view.service }
}

/** The failure counters of the forward on `port`. */
export async function forwardFailures (daemon: TestDaemon, port: number): Promise<Record<string, number>> {
  const views = await cliJson<ForwardView[]>(daemon.dataDir, ['forwards'])
  const view = views.find(entry => entry.listen.endsWith(`:${port}`))
  if (view == null) throw new Error(`no forward on port ${port}`)
  return view.failures
}

/** One line on stderr, nothing on stdout: how a refused command must look. */
export function oneLine (result: CliResult): string {
  const lines = result.stderr.trim().split('\n')
  if (lines.length !== 1 || lines[0] === '') throw new Error(`expected one line on stderr, got ${JSON.stringify(result.stderr)}`)
  return lines[0] as string
}

/**
 * One connection through a forward, sending `probe`: 'Y' when the same bytes come
 * back (an echo service), else 'N' (closed, reset or timed out without them).
 */
export async function echoProbe (port: number, probe = 'probe\n', timeoutMs = 8_000): Promise<'Y' | 'N'> {
  return new Promise(resolve => {
    let received = ''
    const socket = createConnection({ port, host: '127.0.0.1' })
    const timer = setTimeout(() => { socket.destroy(); resolve('N') }, timeoutMs)
    socket.on('connect', () => { socket.write(probe) })
    socket.on('data', chunk => {
      received += chunk.toString()
      if (received === probe) {
        clearTimeout(timer)
        socket.destroy()
        resolve('Y')
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(received === probe ? 'Y' : 'N')
    })
  })
}

/**
 * An in-process node with a daemon's own identity key (its data directory's
 * identity.key): the holder of that key, able to present certificates the daemon
 * once held. Nothing but libp2p runs on it; the test speaks the protocols itself.
 */
export async function startTwin (daemon: TestDaemon): Promise<InProcessNode> {
  return startInProcessNode(() => true, await loadOrCreateIdentity(join(daemon.dataDir, 'identity.key')))
}
