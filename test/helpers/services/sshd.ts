/**
 * An OpenSSH sshd of its own for a test: a config on a free high port of
 * 127.0.0.1, a temporary host key and user key from ssh-keygen, the user key
 * as the only authorized key, no PAM and no passwords. It logs to stderr
 * (-e) and runs in the foreground (-D), so stopping it is a kill by pid.
 */

import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync } from 'node:fs'
import { copyFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, tempDir } from '../daemon.ts'
import { missingTool, toolPath } from './tools.ts'
import type { ChildProcess } from 'node:child_process'

/** Why the SSH tests cannot run here, or false when they can. */
export function sshMissing (): string | false {
  return missingTool('sshd', 'openssh-server') || missingTool('ssh', 'openssh-client') ||
    missingTool('scp', 'openssh-client') || missingTool('ssh-keygen', 'openssh-client')
}

export interface Sshd {
  readonly process: ChildProcess
  readonly port: number
  readonly target: string
  /** the user the client logs in as: whoever runs the tests */
  readonly user: string
  /** a scratch directory the test can copy files into and out of */
  readonly dir: string
  /** the client options for this server through any port: key, no host key checks, no prompts */
  clientOptions(): string[]
  /** sshd's own log so far */
  log(): string
  stop(): Promise<void>
}

export async function startSshd (): Promise<Sshd> {
  // sshd must be run by absolute path
  const sshd = toolPath('sshd')
  if (sshd == null) throw new Error('sshd is not installed')
  const dir = await tempDir('agentmesh-sshd-')
  const hostKey = join(dir, 'ssh_host_ed25519_key')
  const userKey = join(dir, 'id_ed25519')
  for (const key of [hostKey, userKey]) {
    const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'agentmesh-test', '-f', key], { encoding: 'utf8', timeout: 20_000 })
    if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`)
  }
  await copyFile(`${userKey}.pub`, join(dir, 'authorized_keys'))
  const port = await freePort()
  const config = join(dir, 'sshd_config')
  await writeFile(config, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    ''
  ].join('\n'))
  // privilege separation needs this directory when sshd runs as root; the Debian service would create it
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 })
  const child = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr?.on('data', chunk => { log += chunk })
  const exited = once(child, 'exit')
  const stop = async (): Promise<void> => {
    if (child.exitCode == null && child.signalCode == null && child.pid != null) {
      try { process.kill(child.pid, 'SIGTERM') } catch {}
      const timer = setTimeout(() => { try { process.kill(child.pid as number, 'SIGKILL') } catch {} }, 5_000)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await waitForBanner(port, () => child.exitCode != null ? `sshd exited ${child.exitCode}: ${log}` : undefined)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    process: child,
    port,
    target: `127.0.0.1:${port}`,
    user: userInfo().username,
    dir,
    clientOptions: () => [
      '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'BatchMode=yes',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'ConnectTimeout=15',
      '-o', 'LogLevel=ERROR',
      '-F', '/dev/null',
      '-i', userKey
    ],
    log: () => log,
    stop
  }
}

/** Waits (at most 10 s) until 127.0.0.1:port answers with an SSH banner. */
async function waitForBanner (port: number, dead: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 10_000
  let last = ''
  while (Date.now() < deadline) {
    const why = dead()
    if (why != null) throw new Error(why)
    const banner = await new Promise<string>(resolve => {
      const socket = connect({ host: '127.0.0.1', port })
      let data = ''
      const done = (): void => { socket.destroy(); resolve(data) }
      socket.setTimeout(1_000, done)
      socket.on('data', chunk => { data += chunk.toString(); if (data.includes('\n')) done() })
      socket.on('error', err => { last = err.message; done() })
      socket.on('close', done)
    })
    if (banner.startsWith('SSH-2.0-')) return
    await sleep(100)
  }
  throw new Error(`sshd on 127.0.0.1:${port} did not answer within 10 s${last === '' ? '' : `: ${last}`}`)
}
