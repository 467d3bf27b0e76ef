/**
 * Requests, `npm run bench -- requests`: autocannon with 100 concurrent keep-alive
 * HTTP/1.1 clients against a node:http server answering "ok", directly, through `ssh -L`
 * and through an agentmesh forward; requests per second and latency p50/p99, median of
 * alternating rounds, the agentmesh / ssh -L ratio taken within each round.
 */

import { once } from 'node:events'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { run } from '../test/helpers/services/process.ts'
import { runPart } from './lib/part.ts'
import { meshPair, progress, sshd, sshForward } from './lib/setup.ts'
import { median, rotate, round } from './lib/stats.ts'

const ROUNDS = 3
const SECONDS = 5
const CONNECTIONS = 100
const PATHS = ['direct', 'sshL', 'agentmesh'] as const
type Path = typeof PATHS[number]
const AUTOCANNON = join(import.meta.dirname, '..', 'node_modules', 'autocannon', 'autocannon.js')

interface Load { rps: number, p50: number, p99: number, errors: number }

/** autocannon against http://127.0.0.1:port/ for `seconds`, as its own process. */
async function autocannon (port: number, seconds: number): Promise<Load> {
  const result = await run(process.execPath, [AUTOCANNON, '-c', String(CONNECTIONS), '-d', String(seconds), '-j', `http://127.0.0.1:${port}/`], { timeoutMs: (seconds + 30) * 1000 })
  if (result.code !== 0) throw new Error(`autocannon through port ${port} failed: ${result.stderr.slice(-1000)}`)
  const report = JSON.parse(result.stdout)
  return {
    rps: Math.round(report['2xx'] / report.duration),
    p50: report.latency.p50,
    p99: report.latency.p99,
    errors: report.errors + report.timeouts + report.non2xx
  }
}

await runPart(async scope => {
  const http = createServer({ keepAliveTimeout: 30_000 }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3 })
    res.end('ok\n')
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  scope.defer(async () => new Promise(resolve => { http.closeAllConnections(); http.close(resolve) }))
  const httpPort = (http.address() as { port: number }).port
  const server = await sshd(scope)
  const pair = await meshPair(scope)
  const ports: Record<Path, number> = {
    direct: httpPort,
    sshL: (await sshForward(scope, server, httpPort)).port,
    agentmesh: await pair.tunnel('http', `127.0.0.1:${httpPort}`)
  }
  for (const path of PATHS) await autocannon(ports[path], 1) // warm-up: connections, JIT

  const runs: Record<Path, Load[]> = { direct: [], sshL: [], agentmesh: [] }
  for (let r = 0; r < ROUNDS; r++) {
    for (const path of rotate([...PATHS], r)) {
      const load = await autocannon(ports[path], SECONDS)
      runs[path].push(load)
      progress('requests', `round ${r + 1}/${ROUNDS}, ${path}: ${load.rps} req/s, p99 ${load.p99} ms${load.errors > 0 ? `, ${load.errors} errors` : ''}`)
    }
  }
  const perRound = runs.agentmesh.map((load, i) => load.rps / (runs.sshL[i] as Load).rps)
  return {
    results: {
      connections: CONNECTIONS,
      rounds: ROUNDS,
      secondsPerRun: SECONDS,
      ...Object.fromEntries(PATHS.map(path => [path, {
        rps: Math.round(median(runs[path].map(load => load.rps))),
        p50Ms: median(runs[path].map(load => load.p50)),
        p99Ms: median(runs[path].map(load => load.p99)),
        errors: runs[path].reduce((sum, load) => sum + load.errors, 0),
        runs: runs[path]
      }])),
      agentmeshVsSshL: round(median(perRound))
    },
    targets: []
  }
})
