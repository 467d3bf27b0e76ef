/**
 * The layering holds: no import circle under src/ or protocols/ (type imports count:
 * a circle of types is a circle of ideas), and protocols/ never imports src/ (the wire
 * protocols stand alone; the node is built on them, not the other way round). Dynamic
 * `import()` is not followed: it loads a module on first use, after both ends exist.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, it } from 'node:test'

const ROOT = join(import.meta.dirname, '..', '..')
const TREES = ['src', 'protocols']
/** `import ... from '...'`, `import '...'` and `export ... from '...'`, over several lines too */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:[^'"`;]*?\s+from\s+)?['"]([^'"]+)['"]/gm

async function sourceFiles (dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { withFileTypes: true })
  const nested = await Promise.all(entries.map(async entry => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : []
  }))
  return nested.flat()
}

/** Each file's relative imports, as paths from the repository root. */
async function importGraph (): Promise<Map<string, string[]>> {
  const files = (await Promise.all(TREES.map(sourceFiles))).flat()
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const text = await readFile(join(ROOT, file), 'utf8')
    const targets = [...text.matchAll(STATIC_IMPORT)].map(match => match[1] as string)
      .filter(target => target.startsWith('.'))
      .map(target => relative(ROOT, resolve(ROOT, dirname(file), target)))
    graph.set(file, [...new Set(targets)])
  }
  return graph
}

/** Every elementary circle's first appearance in a depth-first walk, as a path a -> b -> a. */
function circles (graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'active' | 'done'>()
  const stack: string[] = []
  const visit = (file: string): void => {
    state.set(file, 'active')
    stack.push(file)
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'active') found.push([...stack.slice(stack.indexOf(next)), next])
      else if (state.get(next) == null && graph.has(next)) visit(next)
    }
    stack.pop()
    state.set(file, 'done')
  }
  for (const file of [...graph.keys()].sort()) if (state.get(file) == null) visit(file)
  return found
}

describe('import layering', () => {
  it('has no import circle under src/ or protocols/', async () => {
    const found = circles(await importGraph())
    assert.deepEqual(found.map(circle => circle.join(' -> ')), [])
  })

  it('never imports src/ from protocols/', async () => {
    const graph = await importGraph()
    const wrong = [...graph].flatMap(([file, targets]) => file.startsWith('protocols/') ? targets.filter(target => target.startsWith('src/')).map(target => `${file} -> ${target}`) : [])
    assert.deepEqual(wrong, [])
  })

  it('finds a circle and a wrong-way import when there is one', () => {
    const graph = new Map([['src/a.ts', ['src/b.ts']], ['src/b.ts', ['src/c.ts']], ['src/c.ts', ['src/a.ts']], ['src/d.ts', []]])
    assert.deepEqual(circles(graph), [['src/a.ts', 'src/b.ts', 'src/c.ts', 'src/a.ts']])
    const text = "import type { X } from '../src/x.ts'\nexport { y } from './y.ts'\nimport {\n  z\n} from './z.ts'\nimport './side-effect.ts'\nconst lazy = await import('./lazy.ts')\n"
    assert.deepEqual([...text.matchAll(STATIC_IMPORT)].map(match => match[1]), ['../src/x.ts', './y.ts', './z.ts', './side-effect.ts'])
  })
})
