import { stat } from 'node:fs/promises'
import { UserError } from '../errors.ts'

export class DataDirPermissionError extends UserError {
  override name = 'DataDirPermissionError'
}

/**
 * Refuses a data directory that another user could change, as OpenSSH refuses a
 * `~/.ssh` others can write to: one owned by someone else, or writable by its group or
 * by others, would let them plant files (or links) where the daemon writes its state.
 */
export async function checkDataDirPermissions (dir: string): Promise<void> {
  const info = await stat(dir)
  if (!info.isDirectory()) throw new DataDirPermissionError(`data directory ${dir} is not a directory: pass another --data-dir`)
  const uid = process.getuid?.()
  if (uid != null && info.uid !== uid) {
    throw new DataDirPermissionError(`Bad owner on data directory ${dir}: it belongs to uid ${info.uid}, not to this user (uid ${uid}); use a directory of your own`)
  }
  if ((info.mode & 0o022) !== 0) {
    const mode = (info.mode & 0o7777).toString(8).padStart(4, '0')
    throw new DataDirPermissionError(`Bad permissions on data directory ${dir}: mode ${mode} lets ${(info.mode & 0o020) !== 0 ? 'its group' : ''}${(info.mode & 0o022) === 0o022 ? ' and ' : ''}${(info.mode & 0o002) !== 0 ? 'others' : ''} write to it; run chmod go-w ${dir}`)
  }
}
