/**
 * `agentmesh events --json` as a user runs it (a child process, stopped by pid), and a
 * webhook receiver on 127.0.0.1 that keeps what it is sent.
 */

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { waitFor } from '../daemon.ts'
import type { TestDaemon } from '../daemon.ts'

const CLI = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'agentmesh.js')

export interface MeshEventLine {
  seq: number
  time: string
  type: string
  [field: string]: unknown
}

export interface EventFollower {
  /** the parsed lines so far (or the raw lines without --json) */
  readonly events: MeshEventLine[]
  readonly lines: string[]
  /** waits until `match` finds an event, for at most `timeoutMs` */
  waitFor(what: string, match: (event: MeshEventLine) => boolean, timeoutMs?: number): Promise<MeshEventLine>
  stop(): Promise<void>
}

/** Runs `agentmesh events [args]` against a daemon and collects what it prints. */
export function followEvents (daemon: TestDaemon, args: string[] = ['--json', '--since', '0']): EventFollower {
  const child = spawn(process.execPath, [CLI, 'events', '--data-dir', daemon.dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const events: MeshEventLine[] = []
  const lines: string[] = []
  let stderr = ''
  child.stderr.on('data', chunk => { stderr += chunk })
  createInterface({ input: child.stdout }).on('line', line => {
    lines.push(line)
    if (args.includes('--json')) events.push(JSON.parse(line))
  })
  const exited = once(child, 'exit')
  return {
    events,
    lines,
    waitFor: async (what, match, timeoutMs = 20_000) => waitFor(what, async () => {
      if (child.exitCode != null) throw new Error(`agentmesh events exited ${child.exitCode}: ${stderr}`)
      return events.find(match)
    }, timeoutMs, 100),
    stop: async () => {
      if (child.exitCode == null && child.signalCode == null) process.kill(child.pid as number, 'SIGTERM')
      await exited
    }
  }
}

export interface WebhookReceiver {
  readonly url: string
  readonly received: MeshEventLine[]
  close(): Promise<void>
}

export async function startWebhookReceiver (): Promise<WebhookReceiver> {
  const received: MeshEventLine[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', chunk => { body += chunk })
    req.on('end', () => {
      try {
        received.push(JSON.parse(body))
        res.writeHead(204).end()
      } catch {
        res.writeHead(400).end()
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/agentmesh`,
    received,
    close: async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  }
}
