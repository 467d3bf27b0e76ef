/**
 * `npm run bench -- resolve`: name resolution through the DHT in a mesh of 20 (or 50)
 * member daemons on loopback (test/helpers/member-mesh.ts), 5 daemons to a process
 * (test/helpers/daemon-host.ts): 50 daemons, each its own process, do not start on this
 * 2-core machine (past about 30, a new daemon's control API no longer answers within its
 * 20 s start bound while the others walk the DHT). Every member resolves the next 10
 * members once, 4 resolving members at a time: success rate, p50 and p99 resolve time,
 * and DHT requests per lookup. Not a ratio against another tool: no peer of agentmesh
 * resolves names without a registry to run side by side.
 */
import { percentile, resolveAll, startMemberMesh } from '../test/helpers/member-mesh.ts'
import { runPart } from './lib/part.ts'

/**
 * Mesh sizes: 20 by default; `AGENTMESH_BENCH_RESOLVE_SIZES=50` for 50 members, which
 * takes about 4 minutes here (2.5 of them to start and publish), too long for a full
 * `npm run bench` to stay under its 10 minutes.
 */
const SIZES = (process.env.AGENTMESH_BENCH_RESOLVE_SIZES ?? '20').split(',').map(Number)
/** daemons per process after the first (the same at every size, so that sizes compare) */
const PER_PROCESS = 5
/** Each member resolves the next this many members: 10 of 49 keeps 50 members within the part's 5 minutes. */
const LOOKUPS_PER_MEMBER = 10
/** processes started at once: more keep a 2-core machine too busy for each to answer within its start bound */
const START_CONCURRENCY = 2
const LOOKUP_CONCURRENCY = 4

await runPart(async scope => {
  const results: Record<string, unknown> = {}
  for (const size of SIZES) {
    process.stderr.write(`  resolve: starting ${size} members\n`)
    const mesh = await startMemberMesh(size, { startConcurrency: START_CONCURRENCY, perProcess: PER_PROCESS, publishTimeoutMs: 200_000, track: started => { scope.defer(async () => started.destroy()) } })
    try {
      const round = await resolveAll(mesh.members, LOOKUP_CONCURRENCY, Math.min(LOOKUPS_PER_MEMBER, size - 1))
      results[`members${size}`] = {
        lookups: round.lookups,
        successRate: Math.round(10_000 * (round.lookups - round.failures.length) / round.lookups) / 100,
        p50Ms: Math.round(percentile(round.times, 0.5) * 10) / 10,
        p99Ms: Math.round(percentile(round.times, 0.99) * 10) / 10,
        dhtRequestsPerLookup: Math.round(round.requestsPerLookup * 10) / 10,
        lookupConcurrency: LOOKUP_CONCURRENCY,
        daemonsPerProcess: PER_PROCESS,
        seconds: Math.round(round.seconds * 10) / 10,
        failures: round.failures.slice(0, 5)
      }
      process.stderr.write(`  resolve: ${size} members: ${JSON.stringify(results[`members${size}`])}\n`)
    } finally {
      await mesh.stop()
    }
  }
  return {
    results,
    targets: SIZES.map(size => {
      const figures = results[`members${size}`] as { successRate: number }
      return { id: `resolve-${size}`, what: `names resolved through the DHT, ${size} members`, target: '100%', value: `${figures.successRate}%`, met: figures.successRate === 100 }
    })
  }
})
