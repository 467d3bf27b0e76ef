import { readFile, unlink, writeFile } from 'node:fs/promises'
import { UserError } from '../errors.ts'

export class DaemonRunningError extends UserError {
  override name = 'DaemonRunningError'
}

/**
 * Claims a data directory for this process: the pid file is created exclusively, so of
 * two daemons started at once only one wins. A pid file left by a daemon that died is
 * replaced.
 */
export async function acquirePidLock (file: string, dataDir: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
      return
    } catch (err: any) {
      if (err.code !== 'EEXIST') throw err
    }
    const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new DaemonRunningError(`another agentmesh daemon (pid ${pid}) is running on ${dataDir}: stop it (kill ${pid}) or pass another --data-dir`)
    }
    await unlink(file).catch(() => {})
  }
  throw new DaemonRunningError(`another agentmesh daemon is starting on ${dataDir}: try again, or pass another --data-dir`)
}

export async function releasePidLock (file: string): Promise<void> {
  const pid = await readFile(file, 'utf8').catch(() => '')
  if (Number.parseInt(pid, 10) === process.pid) await unlink(file).catch(() => {})
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err.code === 'EPERM'
  }
}
