/**
 * V8 heap snapshots of a running daemon, taken from outside: the daemon runs with
 * `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR` in NODE_OPTIONS, and SIGUSR2
 * makes it write `Heap.<date>.<time>.<pid>.<tid>.<seq>.heapsnapshot` into DIR (after a
 * full GC). `heapByConstructor` adds up self sizes by constructor, the way the
 * DevTools "Summary" view groups them, so two snapshots can be diffed per tunnel.
 */

import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** `NODE_OPTIONS` that let SIGUSR2 write a heap snapshot into `dir`. */
export function heapSnapshotOptions (dir: string): string {
  return `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`
}

export type HeapCensus = Map<string, { count: number, bytes: number }>

/**
 * Signals `pid` to write a snapshot into `dir`, waits (at most `timeoutMs`) until the
 * file has stopped growing, reads it into a census by constructor and deletes it.
 */
export async function takeHeapCensus (pid: number, dir: string, timeoutMs = 60_000): Promise<HeapCensus> {
  const before = new Set(await readdir(dir))
  process.kill(pid, 'SIGUSR2')
  const deadline = Date.now() + timeoutMs
  let file: string | undefined
  let lastSize = -1
  while (Date.now() < deadline) {
    await sleep(250)
    file ??= (await readdir(dir)).find(name => !before.has(name) && name.endsWith('.heapsnapshot') && name.split('.')[3] === String(pid))
    if (file == null) continue
    const { size } = await stat(join(dir, file))
    if (size > 0 && size === lastSize) break
    lastSize = size
  }
  if (file == null) throw new Error(`no heap snapshot from pid ${pid} within ${timeoutMs} ms`)
  const path = join(dir, file)
  try {
    return heapByConstructor(JSON.parse(await readFile(path, 'utf8')))
  } finally {
    await rm(path, { force: true })
  }
}

/** Self size and count of the snapshot's nodes, by constructor (or V8's own category). */
export function heapByConstructor (snapshot: any): HeapCensus {
  const fields: string[] = snapshot.snapshot.meta.node_fields
  const types: string[] = snapshot.snapshot.meta.node_types[0]
  const strings: string[] = snapshot.strings
  const nodes: number[] = snapshot.nodes
  const [typeAt, nameAt, sizeAt] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')]
  const census: HeapCensus = new Map()
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt] as number] as string
    const name = strings[nodes[i + nameAt] as number] as string
    const key = categoryOf(type, name)
    if (key == null) continue
    const entry = census.get(key) ?? { count: 0, bytes: 0 }
    entry.count++
    entry.bytes += nodes[i + sizeAt] as number
    census.set(key, entry)
  }
  return census
}

function categoryOf (type: string, name: string): string | undefined {
  switch (type) {
    case 'object': case 'native': case 'regexp': return name
    case 'closure': return `(closure) ${name === '' ? '(anonymous)' : name}`
    case 'string': case 'concatenated string': case 'sliced string': return '(string)'
    case 'array': return '(internal array)'
    case 'code': return '(compiled code)'
    case 'hidden': return `(system) ${name}`
    case 'number': return '(heap number)'
    case 'object shape': return '(object shape)'
    case 'synthetic': return undefined
    default: return `(${type})`
  }
}

export interface CensusDelta { constructor: string, countPerUnit: number, bytesPerUnit: number }

/** `after - before` per constructor divided by `units` (e.g. tunnels), largest first. */
export function censusDelta (before: HeapCensus, after: HeapCensus, units: number, top = 25): { totalBytesPerUnit: number, rows: CensusDelta[] } {
  const rows: CensusDelta[] = []
  let total = 0
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const [b, a] = [before.get(key) ?? { count: 0, bytes: 0 }, after.get(key) ?? { count: 0, bytes: 0 }]
    total += a.bytes - b.bytes
    rows.push({ constructor: key, countPerUnit: (a.count - b.count) / units, bytesPerUnit: (a.bytes - b.bytes) / units })
  }
  rows.sort((x, y) => y.bytesPerUnit - x.bytesPerUnit)
  return { totalBytesPerUnit: total / units, rows: rows.slice(0, top) }
}
