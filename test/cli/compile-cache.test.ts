/**
 * The command starts from Node's compile cache (src/cli/agentmesh.js): a run leaves the
 * type-stripped and compiled modules in node_modules/.cache/agentmesh, which the next
 * start reads instead of stripping TypeScript again (README, Benchmarks: start-up and
 * idle RSS). A cache directory of its own, through the same entry, keeps this test from
 * depending on what other tests left behind.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { tempDir } from '../helpers/daemon.ts'

const ENTRY = join(import.meta.dirname, '..', '..', 'src', 'cli', 'agentmesh.js')

async function files (dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter(entry => entry.isFile()).length
}

describe('the agentmesh entry point', () => {
  it('fills Node\'s compile cache with the modules a command loads', async () => {
    const cache = await tempDir('agentmesh-compile-cache-')
    try {
      const run = await new Promise<{ code: number, stdout: string }>(resolve => {
        execFile(process.execPath, [ENTRY, 'forward', '--help'], { env: { ...process.env, AGENTMESH_COMPILE_CACHE: cache }, timeout: 30_000 }, (err: any, stdout) => {
          resolve({ code: err == null ? 0 : err.code, stdout })
        })
      })
      assert.equal(run.code, 0)
      assert.match(run.stdout, /^usage: agentmesh forward/)
      // main.ts, command.ts and every command module, at least
      assert.ok(await files(cache) >= 20, `${await files(cache)} files in the compile cache`)
    } finally {
      await rm(cache, { recursive: true, force: true })
    }
  })
})
