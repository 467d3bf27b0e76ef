/**
 * `npm run bench [-- NAME...]`: runs each benchmark under bench/ (all of them by default)
 * one after another, and writes what each prints (one JSON document) to
 * bench/results/NAME.json together with the machine it ran on and the date.
 */
import { execFile } from 'node:child_process'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'

const BENCH_DIR = import.meta.dirname
/** No benchmark may run longer than this. */
const BENCH_TIMEOUT_MS = 10 * 60_000

const available = (await readdir(BENCH_DIR)).filter(file => file.endsWith('.ts') && file !== 'run.ts').map(file => file.slice(0, -3))
const names = process.argv.length > 2 ? process.argv.slice(2) : available
const unknown = names.filter(name => !available.includes(name))
if (unknown.length > 0) {
  console.error(`no such benchmark: ${unknown.join(', ')} (there are: ${available.join(', ')})`)
  process.exit(2)
}

await mkdir(join(BENCH_DIR, 'results'), { recursive: true })
const machine = { cores: availableParallelism(), cpu: cpus()[0]?.model, node: process.version }
for (const name of names) {
  console.error(`bench ${name} ...`)
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [join(BENCH_DIR, `${name}.ts`)], { timeout: BENCH_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, out, errors) => {
      if (err != null) reject(new Error(`bench ${name} failed: ${err.message}\n${errors}`))
      else resolve(out)
    })
  })
  const result = { name, date: new Date().toISOString(), machine, results: JSON.parse(stdout) }
  await writeFile(join(BENCH_DIR, 'results', `${name}.json`), `${JSON.stringify(result, null, 2)}\n`)
  console.log(JSON.stringify(result, null, 2))
}
