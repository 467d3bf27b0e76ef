/**
 * The contract between a benchmark part (`bench/<name>.ts`, run as its own process by
 * `bench/run.ts`) and the runner: the part prints one JSON document, `PartOutput`, on
 * stdout (progress goes to stderr), and stops everything it started, also when the
 * runner stops it.
 */

import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { Scope } from './setup.ts'

export const RESULTS_DIR = join(import.meta.dirname, '..', 'results')

/** A target from the issue, checked against a figure of this run (never in a timed test). */
export interface Target {
  id: string
  what: string
  /** the target as a reader states it, e.g. ">= 1.0x ssh -L" */
  target: string
  /** the figure of this run, with its unit */
  value: string
  met: boolean
}

export interface PartOutput {
  results: Record<string, unknown>
  targets: Target[]
  /** files this part wrote under bench/results (profiles, heap summaries) */
  files?: string[]
}

export function machine (): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    // the daemons inherit it (all but the profiled and heap-snapshot ones): a run trying V8 flags says so
    ...(process.env.NODE_OPTIONS == null || process.env.NODE_OPTIONS === '' ? {} : { nodeOptions: process.env.NODE_OPTIONS })
  }
}

/** Writes `text` to bench/results/`name`; returns the path relative to the repo. */
export async function writeResult (name: string, text: string): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true })
  await writeFile(join(RESULTS_DIR, name), text)
  return `bench/results/${name}`
}

/** The first lines of a markdown file a part writes under bench/results: title, date, machine, command. */
export function fileHeader (title: string, part: string): string[] {
  return [`# ${title}`, '', `${new Date().toISOString().slice(0, 10)}, ${JSON.stringify(machine())}. Written by \`npm run bench -- ${part}\`.`, '']
}

/** Runs a part's body with a scope that is closed however it ends, and prints its output. */
export async function runPart (body: (scope: Scope) => Promise<PartOutput>): Promise<void> {
  const scope = new Scope()
  const interrupted = (signal: NodeJS.Signals): void => {
    process.stderr.write(`  ${signal}: stopping what this part started\n`)
    scope.close().finally(() => { process.exit(1) })
  }
  process.once('SIGTERM', interrupted)
  process.once('SIGINT', interrupted)
  let output: PartOutput
  try {
    output = await body(scope)
  } finally {
    await scope.close()
  }
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`)
}
