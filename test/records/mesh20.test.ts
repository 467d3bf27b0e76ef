/**
 * A mesh of 20 member nodes on loopback: every node resolves every other member's name
 * through the DHT (380 first lookups, none from a cache). Reported: the success rate
 * (goal 100%), p50 and p99 resolve time, and the DHT messages per lookup
 * (test/helpers/member-mesh.ts says how they are counted). `npm run bench -- resolve`
 * measures the same at 20 and 50 nodes.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { percentile, resolveAll, startMemberMesh } from '../helpers/member-mesh.ts'
import type { MemberMesh } from '../helpers/member-mesh.ts'

const NODES = 20
/** daemons started at once: each start is CPU-bound for a second or two */
const START_CONCURRENCY = 4
/**
 * Lookups in flight at once, each from another node: 20 at once would measure this
 * 2-core machine's CPU queue (about 3 s a lookup), not the lookup.
 */
const LOOKUP_CONCURRENCY = 4

describe(`a mesh of ${NODES} members resolves every name through the DHT`, () => {
  let mesh: MemberMesh

  before(async () => {
    mesh = await startMemberMesh(NODES, { startConcurrency: START_CONCURRENCY, publishTimeoutMs: 90_000 })
  })

  after(async () => {
    await mesh?.stop()
  })

  it('every node resolves every other member, first time through the DHT', async () => {
    const round = await resolveAll(mesh.members, LOOKUP_CONCURRENCY)
    const resolved = round.lookups - round.failures.length
    process.stdout.write(`# mesh of ${NODES}: ${resolved}/${round.lookups} resolved (${(100 * resolved / round.lookups).toFixed(1)}%), ` +
      `p50 ${percentile(round.times, 0.5).toFixed(1)} ms, p99 ${percentile(round.times, 0.99).toFixed(1)} ms, ` +
      `${round.requestsPerLookup.toFixed(1)} DHT requests per lookup, ${LOOKUP_CONCURRENCY} lookups at a time, ${round.seconds.toFixed(1)} s in all\n`)
    assert.deepEqual(round.failures, [], 'every lookup finds the member\'s current record')
  })
})
