/**
 * Summaries of `node --cpu-prof` profiles: self time by package (yamux, noise,
 * @libp2p/utils, this project's own folders, node's internals, GC) and the top
 * functions, within a time window. Profile timestamps are microseconds of the
 * monotonic clock that `process.hrtime` also reads, so a window taken with
 * `hrtimeUs()` in the benchmark selects the samples of another process.
 */

import { readdir, readFile, rm } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DAEMON_V8_FLAGS } from '../../src/daemon/v8-flags.ts'
import { tempDir } from '../../test/helpers/daemon.ts'
import { fileHeader, writeResult } from './part.ts'
import { meshPair } from './setup.ts'
import { round } from './stats.ts'
import type { MeshPair, Scope } from './setup.ts'

const REPO = join(import.meta.dirname, '..', '..')

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

/** Now, in the profiles' clock (µs). */
export function hrtimeUs (): number {
  return Number(process.hrtime.bigint() / 1000n)
}

export interface ProfileWindow { startUs: number, endUs: number }

export interface ProfileSummary {
  windowMs: number
  /** time the process was on CPU in the window (everything but "(idle)"), ms */
  busyMs: number
  /** busyMs / windowMs: 1.0 is one core saturated */
  busyShare: number
  byPackage: Array<{ package: string, ms: number, share: number }>
  topFunctions: FunctionTime[]
  /** time with the function anywhere on the stack, for library and agentmesh code (not node's internals or V8's) */
  inclusive: FunctionTime[]
}

export interface FunctionTime { function: string, where: string, package: string, ms: number, share: number }

/**
 * `NODE_OPTIONS` that make a daemon write its CPU profile into `dir` when it exits; with
 * the daemon's V8 flags, so that it does not re-execute itself (which writes a profile too).
 */
export function cpuProfileOptions (dir: string, intervalUs = 1000): string {
  return `${DAEMON_V8_FLAGS.join(' ')} --cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=${intervalUs}`
}

/** The profile process `pid` wrote into `dir` when it exited (node names it CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile). */
export async function readProfile (dir: string, pid: number): Promise<CpuProfile> {
  const files = (await readdir(dir)).filter(file => file.endsWith('.cpuprofile') && file.split('.')[3] === String(pid))
  if (files.length !== 1) throw new Error(`expected one .cpuprofile of pid ${pid} in ${dir}, found ${files.length}`)
  return JSON.parse(await readFile(join(dir, files[0] as string), 'utf8'))
}

/** Where a frame's code comes from: an npm package, a folder of this repo, a node internal module, or V8/GC. */
export function packageOf (frame: CallFrame): string {
  const { url, functionName } = frame
  if (url === '') return functionName.startsWith('(') ? functionName : '(V8 builtins and native code)'
  if (url.startsWith('wasm://')) return '(wasm: @chainsafe/as-chacha20poly1305, as-sha256)'
  if (url.startsWith('node:')) {
    const module = url.slice('node:'.length)
    return `node:${module.startsWith('internal/') ? module.split('/').slice(0, 2).join('/') : module}`
  }
  const path = url.startsWith('file://') ? fileURLToPath(url) : url
  const nodeModules = path.lastIndexOf('/node_modules/')
  if (nodeModules >= 0) {
    const parts = path.slice(nodeModules + '/node_modules/'.length).split('/')
    return parts[0]?.startsWith('@') === true ? `${parts[0]}/${parts[1]}` : parts[0] as string
  }
  const inRepo = relative(REPO, path)
  if (!inRepo.startsWith('..')) return `agentmesh ${inRepo.split('/').slice(0, -1).join('/')}/`
  return path
}

function where (frame: CallFrame): string {
  if (frame.url === '') return ''
  const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url
  const nodeModules = path.lastIndexOf('/node_modules/')
  const short = nodeModules >= 0 ? path.slice(nodeModules + '/node_modules/'.length) : path.startsWith(REPO) ? relative(REPO, path) : path
  return `${short}:${frame.lineNumber + 1}`
}

/** Self time by package and by function of the samples in `window` (the whole profile if none). */
export function summariseProfile (profile: CpuProfile, window?: ProfileWindow, top = 25): ProfileSummary {
  const frames = new Map(profile.nodes.map(node => [node.id, node.callFrame]))
  const start = window?.startUs ?? profile.startTime
  const end = window?.endUs ?? profile.endTime
  const parents = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
  const byPackage = new Map<string, number>()
  const byFunction = new Map<string, { frame: CallFrame, us: number }>()
  const inclusive = new Map<string, { frame: CallFrame, us: number }>()
  let busyUs = 0
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0
    // a sample stands for the time until the next one
    const next = at + (profile.timeDeltas[i + 1] ?? 0)
    if (at < start || at >= end) continue
    const frame = frames.get(profile.samples[i] as number)
    if (frame == null || frame.functionName === '(idle)') continue
    const us = Math.min(next, end) - at
    busyUs += us
    const pkg = packageOf(frame)
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us)
    const key = frameKey(frame)
    const entry = byFunction.get(key) ?? { frame, us: 0 }
    entry.us += us
    byFunction.set(key, entry)
    const onStack = new Set<string>()
    for (let id: number | undefined = profile.samples[i]; id != null; id = parents.get(id)) {
      const caller = frames.get(id) as CallFrame
      const callerKey = frameKey(caller)
      if (onStack.has(callerKey) || caller.url === '' || caller.url.startsWith('node:')) continue
      onStack.add(callerKey)
      const total = inclusive.get(callerKey) ?? { frame: caller, us: 0 }
      total.us += us
      inclusive.set(callerKey, total)
    }
  }
  const windowUs = Math.max(1, end - start)
  const share = (us: number): number => round(us / Math.max(1, busyUs), 3)
  return {
    windowMs: round(windowUs / 1000, 0),
    busyMs: round(busyUs / 1000, 0),
    busyShare: round(busyUs / windowUs, 2),
    byPackage: [...byPackage.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ package: name, ms: round(us / 1000, 0), share: share(us) })),
    topFunctions: [...byFunction.values()].sort((a, b) => b.us - a.us).slice(0, top).map(row),
    inclusive: [...inclusive.values()].sort((a, b) => b.us - a.us).slice(0, top).map(row)
  }
  function row ({ frame, us }: { frame: CallFrame, us: number }): FunctionTime {
    return { function: frame.functionName === '' ? '(anonymous)' : frame.functionName, where: where(frame), package: packageOf(frame), ms: round(us / 1000, 0), share: share(us) }
  }
}

function frameKey (frame: CallFrame): string {
  return `${frame.functionName}|${frame.url}|${frame.lineNumber}`
}

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`

/** A markdown section for one process's summary. */
export function profileMarkdown (title: string, summary: ProfileSummary, packages = 15, functions = 20): string {
  return [
    `### ${title}`,
    '',
    `On CPU ${summary.busyMs} ms of a ${summary.windowMs} ms window (${percent(summary.busyShare)} of one core).`,
    '',
    '| self time by package | ms | share |',
    '| --- | ---: | ---: |',
    ...summary.byPackage.slice(0, packages).map(row => `| ${row.package} | ${row.ms} | ${percent(row.share)} |`),
    '',
    '| top functions (self time) | where | ms | share |',
    '| --- | --- | ---: | ---: |',
    ...summary.topFunctions.slice(0, functions).map(functionRow),
    '',
    '| library and agentmesh functions, total time (on the stack) | where | ms | share |',
    '| --- | --- | ---: | ---: |',
    ...summary.inclusive.slice(0, functions).map(functionRow),
    ''
  ].join('\n')
}

function functionRow (row: FunctionTime): string {
  return `| \`${row.function}\` | ${row.where === '' ? row.package : `\`${row.where}\``} | ${row.ms} | ${percent(row.share)} |`
}

/**
 * A trusted daemon pair (see `meshPair`) whose daemons write CPU profiles; `summaries`
 * stops both (a profile is written at exit) and summarises each within `window`.
 */
export async function profiledMeshPair (scope: Scope, intervalUs = 1000): Promise<MeshPair & { summaries(window: ProfileWindow): Promise<{ a: ProfileSummary, b: ProfileSummary }> }> {
  const dir = await tempDir('agentmesh-cpuprof-')
  scope.defer(async () => rm(dir, { recursive: true, force: true }))
  const pair = await meshPair(scope, { env: { NODE_OPTIONS: cpuProfileOptions(dir, intervalUs) } })
  return {
    ...pair,
    async summaries (window) {
      await Promise.all([pair.a.stop(), pair.b.stop()])
      const [a, b] = await Promise.all([readProfile(dir, pair.a.pid), readProfile(dir, pair.b.pid)])
      return { a: summariseProfile(a, window), b: summariseProfile(b, window) }
    }
  }
}

interface SideFigures { busyShare: number, topPackages: ProfileSummary['byPackage'] }

/**
 * Writes bench/results/`name`: a header, `intro`, then B's and A's summaries; returns the
 * file and the figures a part puts into its JSON (busy share and top packages of each side).
 */
export async function writeProfileReport (name: string, title: string, part: string, intro: string[], profiles: { a: ProfileSummary, b: ProfileSummary }, labels: { a: string, b: string }): Promise<{ file: string, forwardSide: SideFigures, exposeSide: SideFigures }> {
  const file = await writeResult(name, [...fileHeader(title, part), ...intro, '', profileMarkdown(labels.b, profiles.b), profileMarkdown(labels.a, profiles.a)].join('\n'))
  const side = (summary: ProfileSummary): SideFigures => ({ busyShare: summary.busyShare, topPackages: summary.byPackage.slice(0, 8) })
  return { file, forwardSide: side(profiles.b), exposeSide: side(profiles.a) }
}
