/**
 * `npm run bench [-- NAME...]`: runs the benchmark parts (bench/NAME.ts; all of them by
 * default, in the order below) one after another, each as its own process that prints
 * one JSON document (bench/lib/part.ts), and writes:
 *
 * - bench/results/NAME.json: that part's figures, targets, machine and date;
 * - bench/results/latest.json: every part's latest record (a partial run replaces only
 *   the parts it ran), the machine, the date and every target with met / not met;
 * - bench/results/latest.md: the markdown tables the README shows (bench/lib/report.ts).
 *
 * Informational only: nothing here is part of `npm test`, and a missed target does not
 * fail the run (a failing part does, after the other parts have run).
 */

import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { machine, RESULTS_DIR, writeResult } from './lib/part.ts'
import { renderMarkdown } from './lib/report.ts'
import { stopChild } from './lib/setup.ts'
import type { PartOutput } from './lib/part.ts'
import type { Latest, PartRecord } from './lib/report.ts'

const BENCH_DIR = import.meta.dirname
/**
 * The parts (bench/NAME.ts) in the order of a full run, cheapest first among the ones that
 * need the machine to themselves; the other scripts under bench/ (dashboard-screenshot)
 * are run on their own.
 */
const PARTS = ['envelope', 'encryption', 'connections', 'memory', 'requests', 'relayed', 'bulk', 'resolve']
/** No part may run longer than this. */
const PART_TIMEOUT_MS = 5 * 60_000
/** A full run must stay under 10 minutes. */
const RUN_TIMEOUT_MS = 10 * 60_000

const names = process.argv.length > 2 ? process.argv.slice(2) : PARTS
const unknown = names.filter(name => !PARTS.includes(name))
if (unknown.length > 0) {
  console.error(`no such benchmark: ${unknown.join(', ')} (there are: ${PARTS.join(', ')})`)
  process.exit(2)
}

/** Runs bench/NAME.ts, stderr passed through, stdout parsed; stopped (by pid) at `timeoutMs`. */
async function runPart (name: string, timeoutMs: number): Promise<PartOutput> {
  const child = spawn(process.execPath, [join(BENCH_DIR, `${name}.ts`)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.on('data', chunk => { stdout += chunk })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    void stopChild(child, 20_000)
  }, timeoutMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => child.once('exit', (exitCode, exitSignal) => { resolve([exitCode, exitSignal]) }))
  clearTimeout(timer)
  if (timedOut) throw new Error(`stopped after ${Math.round(timeoutMs / 1000)} s`)
  if (code !== 0) throw new Error(`exited ${code ?? signal} (see its output above)`)
  return JSON.parse(stdout) as PartOutput
}

async function readLatest (): Promise<Latest | undefined> {
  try {
    return JSON.parse(await readFile(join(RESULTS_DIR, 'latest.json'), 'utf8'))
  } catch {
    return undefined
  }
}

const started = Date.now()
const startMachine = machine()
const records: Record<string, PartRecord> = {}
let failed = false
for (const name of names) {
  const left = RUN_TIMEOUT_MS - (Date.now() - started)
  const partStarted = Date.now()
  const record: PartRecord = { date: new Date().toISOString(), durationSeconds: 0, machine: machine() }
  console.error(`bench ${name} ...`)
  try {
    if (left <= 0) throw new Error('not run: the 10-minute budget of the run was spent')
    Object.assign(record, await runPart(name, Math.min(PART_TIMEOUT_MS, left)))
  } catch (err: any) {
    failed = true
    record.error = err.message
    console.error(`bench ${name} failed: ${err.message}`)
  }
  record.durationSeconds = Math.round((Date.now() - partStarted) / 1000)
  records[name] = record
  await writeResult(`${name}.json`, `${JSON.stringify({ name, ...record }, null, 2)}\n`)
  console.error(`bench ${name}: ${record.error == null ? 'done' : 'FAILED'} in ${record.durationSeconds} s`)
}

// a partial run keeps the other parts' latest figures
const previous = names.length < PARTS.length ? await readLatest() : undefined
const parts: Record<string, PartRecord> = {}
for (const name of PARTS) {
  const record = records[name] ?? previous?.parts[name]
  if (record != null) parts[name] = record
}
const latest: Latest = {
  date: new Date(started).toISOString(),
  machine: startMachine,
  ran: names,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  parts,
  targets: Object.entries(parts).flatMap(([part, record]) => (record.targets ?? []).map(target => ({ part, ...target })))
}
await writeResult('latest.json', `${JSON.stringify(latest, null, 2)}\n`)
await writeResult('latest.md', renderMarkdown(latest))
console.log(renderMarkdown(latest))
console.error(`bench: ${names.join(', ')} in ${latest.durationSeconds} s; ${latest.targets.filter(target => !target.met).length} of ${latest.targets.length} targets not met${failed ? '; SOME PARTS FAILED' : ''}`)
if (failed) process.exitCode = 1
