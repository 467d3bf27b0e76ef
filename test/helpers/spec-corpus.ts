/**
 * What the codec tests of several protocols share: the hex dump format of the SPECs'
 * worked examples and of the hostile corpora, reading a SPEC's examples and error
 * table, printing annotated examples for a SPEC, and a corpus directory with its
 * manifest (written by a generator, checked by a fixtures test).
 */
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { it } from 'node:test'
import { concat } from 'uint8arrays/concat'

/** Bytes from the hex dump format of the SPECs and the fixtures: hex pairs, whitespace, `#` comments. */
export function parseHexDump (text: string): Uint8Array {
  const digits = text.replace(/#.*$/gm, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) {
    throw new Error(`not a hex dump: ${text}`)
  }
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16))
}

/** A hex dump of 16 bytes a line, after `# comment` lines: the fixtures' format. */
export function hexDump (bytes: Uint8Array, comment: string): string {
  const lines = comment.split('\n').map((line) => `# ${line}`)
  for (let offset = 0; offset < bytes.length; offset += 16) lines.push(hex(bytes.subarray(offset, offset + 16)))
  return lines.join('\n') + '\n'
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  return concat(parts)
}

/** The worked examples of a SPEC, by name: ```hex example=NAME blocks as bytes, ```text example=NAME blocks as text. */
export function specExamples (spec: URL): Map<string, Uint8Array | string> {
  const examples = new Map<string, Uint8Array | string>()
  for (const [, kind, name, body] of readFileSync(spec, 'utf8').matchAll(/^```(hex|text) example=(\S+)\n([\s\S]*?)^```$/gm)) {
    examples.set(name, kind === 'hex' ? parseHexDump(body) : body.trim())
  }
  return examples
}

/** The error table of a SPEC: every error `name` it lists. */
export function specErrorNames (spec: URL): Set<string> {
  return new Set([...readFileSync(spec, 'utf8').matchAll(/^\| `(\w+Error)` \|/gm)].map(([, name]) => name))
}

/** Bytes as hex pairs, space-separated. */
export function hex (bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ')
}

/** One field of an annotated example: its bytes and what they are. */
export type Field = [bytes: Uint8Array, comment: string]

/** One field per line (16 bytes a line at most), its comment on its first line: a SPEC's worked example. */
export function annotate (fields: Field[]): string {
  const rows: Array<[string, string]> = []
  for (const [bytes, comment] of fields) {
    for (let offset = 0; offset < bytes.length || offset === 0; offset += 16) {
      rows.push([hex(bytes.subarray(offset, offset + 16)), offset === 0 ? comment : ''])
    }
  }
  const width = Math.max(...rows.map(([line]) => line.length))
  return rows.map(([line, comment]) => comment === '' ? line : `${line.padEnd(width)}  # ${comment}`).join('\n')
}

/** Cuts `bytes` into consecutive fields of the given lengths. */
export function split (bytes: Uint8Array, layout: Array<[number, string]>): Field[] {
  let offset = 0
  const fields: Field[] = layout.map(([length, comment]) => {
    const field: Field = [bytes.subarray(offset, offset + length), comment]
    offset += length
    return field
  })
  if (offset !== bytes.length) throw new Error(`layout covers ${offset} of ${bytes.length} bytes`)
  return fields
}

/** A hostile corpus as its manifest.json lists it: each file with the error it must give (null: valid). */
export interface CorpusManifest<F extends { file: string, error: string | null }> {
  generator: string
  seeds: string
  fixtures: F[]
}

export interface BuiltCorpus<F extends { file: string, error: string | null }> {
  manifest: CorpusManifest<F>
  files: Map<string, string>
}

export function manifestText (manifest: CorpusManifest<{ file: string, error: string | null }>): string {
  return JSON.stringify(manifest, null, 2) + '\n'
}

/** Rewrites a corpus directory with what its generator built. */
export function writeCorpus (directory: URL, { manifest, files }: BuiltCorpus<{ file: string, error: string | null }>): void {
  mkdirSync(directory, { recursive: true })
  for (const [file, content] of files) writeFileSync(new URL(file, directory), content)
  writeFileSync(new URL('manifest.json', directory), manifestText(manifest))
  console.log(`wrote ${files.size} fixtures and manifest.json to ${directory.pathname}`)
}

export function readCorpusFile (directory: URL, file: string): string {
  return readFileSync(new URL(file, directory), 'utf8')
}

/**
 * The tests every corpus gets: its manifest lists exactly its files, the files are what
 * the generator builds from the fixed seeds, and every expected error is one the SPEC lists.
 */
export function corpusIntegrityTests<F extends { file: string, error: string | null }> (
  directory: URL, manifest: CorpusManifest<F>, build: () => Promise<BuiltCorpus<F>>, errorNames: Set<string>
): void {
  it('lists every fixture file, and only existing ones', () => {
    const files = readdirSync(directory).filter((file) => file !== 'manifest.json').sort()
    assert.deepEqual(manifest.fixtures.map(({ file }) => file).sort(), files)
  })

  it('is exactly what the generator builds from the fixed seeds', async () => {
    const { manifest: built, files } = await build()
    assert.equal(manifestText(built), readCorpusFile(directory, 'manifest.json'))
    for (const [file, content] of files) assert.equal(content, readCorpusFile(directory, file), file)
  })

  it('expects only errors that SPEC.md lists', () => {
    for (const { file, error } of manifest.fixtures) {
      if (error !== null) assert.ok(errorNames.has(error), `${file}: ${error}`)
    }
  })
}
