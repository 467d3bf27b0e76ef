import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Reads a state file of the data directory; a file that does not exist yet gives `fallback`. */
export async function readJsonFile<T> (file: string, fallback: T): Promise<T> {
  let text
  try {
    text = await readFile(file, 'utf8')
  } catch (err: any) {
    if (err.code === 'ENOENT') return fallback
    throw new Error(`cannot read ${file}: ${err.code ?? err.message}`)
  }
  try {
    return JSON.parse(text) as T
  } catch (err: any) {
    throw new Error(`${file} is not valid JSON (${err.message}): fix or remove it`)
  }
}

/** The writes of each file, one after the other. */
const queues = new Map<string, Promise<void>>()

/**
 * Replaces a state file atomically (write a temporary file, then rename it over the
 * file), readable by this user only. The temporary file has a random name and is created
 * exclusively without following links, so nothing planted in the directory is written
 * through. Writes of one file are serialised: each writes the value it was given, in
 * the order they were asked for, and each caller hears how its own write went.
 */
export async function writeJsonFile (file: string, value: unknown): Promise<void> {
  const text = `${JSON.stringify(value, null, 2)}\n`
  const write = (queues.get(file) ?? Promise.resolve()).catch(() => {}).then(async () => { await replaceFile(file, text) })
  queues.set(file, write)
  try {
    await write
  } finally {
    if (queues.get(file) === write) queues.delete(file)
  }
}

/** `<file>.<16 random hex digits>.tmp`, in the file's directory */
const TEMP_FILE = /^.+\.json\.[0-9a-zA-Z_-]+\.tmp$/

async function replaceFile (file: string, text: string): Promise<void> {
  const temporary = join(dirname(file), `${basename(file)}.${randomBytes(8).toString('hex')}.tmp`)
  // O_EXCL also refuses a symbolic link, even a dangling one; O_NOFOLLOW says so twice
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  try {
    try {
      await handle.writeFile(text)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, file)
  } catch (err) {
    await unlink(temporary).catch(() => {})
    throw err
  }
}

/**
 * Removes the temporary files a write interrupted by a crash left in `dir` (and any
 * planted under such a name): links are removed, never followed. Returns their names.
 */
export async function removeStaleTempFiles (dir: string): Promise<string[]> {
  const stale = (await readdir(dir)).filter(name => TEMP_FILE.test(name))
  await Promise.all(stale.map(async name => unlink(join(dir, name)).catch((err: any) => {
    if (err.code !== 'ENOENT') throw new Error(`cannot remove the stale temporary file ${join(dir, name)}: ${err.code ?? err.message}`)
  })))
  return stale
}
