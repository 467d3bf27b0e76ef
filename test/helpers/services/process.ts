/** Running the real clients (curl, ssh, scp): bounded in time, killed by pid, never left behind. */

import { spawn } from 'node:child_process'
import { Digest } from './data.ts'

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  /** stdout as text, unless `digestStdout` was set */
  stdout: string
  stderr: string
  /** SHA-256 and length of stdout when `digestStdout` was set */
  digest?: { sha256: string, bytes: number }
  ms: number
}

export interface RunOptions {
  timeoutMs: number
  /** hash stdout instead of keeping it (for large downloads) */
  digestStdout?: boolean
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** written to stdin, which is then closed */
  input?: string
}

/** Runs `command args`, SIGKILLing it by pid at the deadline; resolves with how it ended, never rejects for a failing exit. */
export async function run (command: string, args: string[], options: RunOptions): Promise<RunResult> {
  const started = Date.now()
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env }, cwd: options.cwd })
  // stdin ends at once, like /dev/null, after `input` if there is one
  child.stdin.on('error', () => {})
  child.stdin.end(options.input)
  const digest = options.digestStdout === true ? new Digest() : undefined
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    if (digest != null) digest.update(chunk)
    else stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const timer = setTimeout(() => {
    stderr += `\n[killed after ${options.timeoutMs} ms]`
    if (child.pid != null) try { process.kill(child.pid, 'SIGKILL') } catch {}
  }, options.timeoutMs)
  return new Promise((resolve, reject) => {
    child.once('error', err => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        stdout,
        stderr,
        digest: digest == null ? undefined : { sha256: digest.hex(), bytes: digest.bytes },
        ms: Date.now() - started
      })
    })
  })
}

/** A one-line summary of a failed run for assertion messages. */
export function describeRun (what: string, result: RunResult): string {
  return `${what} exited ${result.code ?? result.signal} after ${result.ms} ms: ${result.stderr.trim().slice(-2000)}`
}
