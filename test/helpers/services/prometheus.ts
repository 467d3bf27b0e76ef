/**
 * A real Prometheus server (Debian's `prometheus` package) scraping given targets every
 * `scrapeSeconds`, with its own temporary storage, on 127.0.0.1; stopped by pid.
 */

import { spawn } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort, tempDir, waitFor } from '../daemon.ts'
import type { ChildProcess } from 'node:child_process'

export interface Prometheus {
  readonly url: string
  /** a PromQL instant query's vector result */
  query(promql: string): Promise<Array<{ metric: Record<string, string>, value: [number, string] }>>
  /** the scrape targets' health, as `/api/v1/targets` reports it */
  targets(): Promise<Array<{ scrapeUrl: string, health: string, lastError: string }>>
  stop(): Promise<void>
}

export async function startPrometheus (targets: string[], scrapeSeconds = 1): Promise<Prometheus> {
  const dir = await tempDir('agentmesh-prometheus-')
  const config = join(dir, 'prometheus.yml')
  await writeFile(config, [
    'global:',
    `  scrape_interval: ${scrapeSeconds}s`,
    `  scrape_timeout: ${scrapeSeconds}s`,
    'scrape_configs:',
    '  - job_name: agentmesh',
    '    static_configs:',
    `      - targets: [${targets.map(target => `'${target}'`).join(', ')}]`,
    ''
  ].join('\n'))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let log = ''
  const child: ChildProcess = spawn('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn'
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr?.on('data', chunk => { log = (log + chunk).slice(-4000) })
  const exited = new Promise(resolve => child.once('exit', resolve))
  const stop = async (): Promise<void> => {
    if (child.exitCode == null && child.signalCode == null && child.pid != null) process.kill(child.pid, 'SIGTERM')
    const timer = setTimeout(() => { try { process.kill(child.pid as number, 'SIGKILL') } catch {} }, 5_000)
    await exited
    clearTimeout(timer)
    await rm(dir, { recursive: true, force: true })
  }
  const api = async (path: string): Promise<any> => {
    const res = await fetch(url + path, { signal: AbortSignal.timeout(5_000) })
    const body = await res.json() as { status: string, data: any, error?: string }
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`)
    return body.data
  }
  try {
    await waitFor('prometheus to be ready', async () => {
      if (child.exitCode != null) throw new Error(`prometheus exited ${child.exitCode}: ${log}`)
      return (await fetch(`${url}/-/ready`)).ok
    }, 20_000, 200)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    url,
    query: async promql => (await api(`/api/v1/query?query=${encodeURIComponent(promql)}`)).result,
    targets: async () => (await api('/api/v1/targets')).activeTargets,
    stop
  }
}
