import { readFile, rename, writeFile } from 'node:fs/promises'

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

/** Replaces a state file atomically (write, then rename), readable by this user only. */
export async function writeJsonFile (file: string, value: unknown): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 })
  await rename(temporary, file)
}
