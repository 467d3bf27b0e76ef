/** Resident set size of a process, from /proc/<pid>/status (Linux). */

import { readFile } from 'node:fs/promises'

/** VmRSS of `pid` in bytes. */
export async function rssBytes (pid: number): Promise<number> {
  const { rss } = await rssPartsKiB(pid)
  if (Number.isNaN(rss)) throw new Error(`no VmRSS line in /proc/${pid}/status`)
  return rss * 1024
}

/** The parts of `pid`'s RSS in KiB: anonymous (its own heap and allocations) and file-backed (mapped files: mostly the node binary's pages, shared with every other node process). */
export async function rssPartsKiB (pid: number): Promise<{ rss: number, anon: number, file: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)?.[1] ?? NaN)
  return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile') }
}

/** Samples the RSS of each pid every `intervalMs` until stopped, keeping the peak of each. */
export class RssSampler {
  readonly peaks: Map<number, number>
  private readonly timer: NodeJS.Timeout

  constructor (pids: number[], intervalMs = 250) {
    this.peaks = new Map(pids.map(pid => [pid, 0]))
    const sample = (): void => {
      for (const pid of pids) {
        rssBytes(pid).then(rss => {
          this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, rss))
        }, () => {})
      }
    }
    sample()
    this.timer = setInterval(sample, intervalMs)
  }

  stop (): Map<number, number> {
    clearInterval(this.timer)
    return this.peaks
  }
}
