/**
 * A relay's allowlist, built in the order a user can follow: the relay and the sites
 * start, print their ids, and only then does the relay `trust add` them.
 *
 * 1. A relay that denies untrusted peers (`relay.untrusted = "deny"`): sym1, sym2 and sym3
 *    sit behind symmetric NATs, so the relay is their only path between them; the relay
 *    trusts sym1 and sym2 once they have started (they were refused a reservation until
 *    then). Those two then hold reservations and their tunnels run over the relay without
 *    limits; sym3 gets no reservation and cannot open a circuit, and a forward from sym1
 *    to it fails at once with the failure counted, instead of hanging.
 * 2. A relay with the default policy (untrusted peers get limited circuits), trusted by
 *    the README's steps: sym1 and sym2 start and reserve, untrusted; a forward between
 *    them finds only a limited circuit and fails; then the relay trusts them (`agentmesh
 *    trust add` on the relay), and at once, with no restart and no new reservation, 2 MiB
 *    cross the relay each way byte-exact: limits are decided per circuit, not fixed when
 *    the reservation was made.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { MiB } from '../helpers/services/data.ts'
import { failureCount } from '../helpers/services/mesh.ts'
import { missingTool } from '../helpers/services/tools.ts'
import { labMissing } from './lab.ts'
import { MeshLab, rate } from './mesh-lab.ts'
import type { Transfer } from './mesh-lab.ts'

const missing = labMissing() || missingTool('curl', 'curl')

const RELAY = 'relay'
/**
 * From the relay's `trust add` to the trusted nodes' reservations: they were refused
 * before it, and ask again 10 s after a refusal, then 20 s after the next one.
 */
const RESERVATION_AFTER_TRUST_MS = 40_000
/** for a first tunnel to a peer whose reservation is seconds old */
const FIRST_TUNNEL_MS = 15_000

describe('NAT lab: a relay that denies untrusted peers, trusting the sites after they started', { skip: missing === false ? undefined : missing }, () => {
  let mesh: MeshLab
  let reservations = new Map<string, number | null>()
  /** what `status` said of sym3's reservations once sym1 and sym2 held theirs (or the wait ended) */
  let sym3Relays: string[] | undefined

  before(async () => {
    mesh = await MeshLab.create({
      sites: [{ name: RELAY, kind: 'public' }, { name: 'sym1', kind: 'symmetric' }, { name: 'sym2', kind: 'symmetric' }, { name: 'sym3', kind: 'symmetric' }],
      relays: [RELAY],
      nodes: ['sym1', 'sym2', 'sym3'],
      relayTrusts: ['sym1', 'sym2'],
      // nobody can reserve before the relay trusts them: trust comes as soon as the sites have started
      relayTrustAfter: 'start',
      relayEnv: { AGENTMESH_RELAY_UNTRUSTED: 'deny' }
    })
    reservations = await mesh.waitForRelays(['sym1', 'sym2'], 1, RESERVATION_AFTER_TRUST_MS, mesh.relayTrustedAt)
    sym3Relays = (await mesh.daemon('sym3').status()).relays
    for (const [name, seconds] of reservations) console.log(`# natlab: ${name} reserved ${seconds == null ? 'never' : `${seconds.toFixed(1)} s`} after the relay trusted it (deny policy)`)
  })

  after(async () => {
    await mesh?.destroy()
  })

  it('reserves slots for the trusted peers only, once it trusts them', async () => {
    await mesh.withLogs(['sym1', 'sym2', 'sym3', RELAY], () => {
      assert.notEqual(reservations.get('sym1'), null, `sym1 (trusted by the relay after it started) holds a reservation within ${RESERVATION_AFTER_TRUST_MS / 1000} s of the trust`)
      assert.notEqual(reservations.get('sym2'), null, `sym2 (trusted by the relay after it started) holds a reservation within ${RESERVATION_AFTER_TRUST_MS / 1000} s of the trust`)
      assert.deepEqual(sym3Relays, [], 'sym3 (not trusted by the relay) holds none')
      assert.match(readFileSync(mesh.daemon('sym3').logFile, 'utf8'), /relay refused or failed a reservation.*PERMISSION_DENIED|PERMISSION_DENIED.*relay refused or failed a reservation/, 'sym3 logs why')
    })
  })

  it('carries the trusted peers\' tunnels, past the untrusted data limit', async t => {
    await mesh.forward('sym1', 'sym2', 9101)
    // sym2's circuit address is seconds old here (its reservation came with the trust), and
    // sym1 may not have learnt it yet: the first tunnel gets FIRST_TUNNEL_MS, reported
    const started = Date.now()
    let attempts = 0
    let transfer: Transfer | undefined
    let first: Transfer | undefined
    while (Date.now() - started < FIRST_TUNNEL_MS && transfer?.ok !== true) {
      if (attempts++ > 0) await sleep(500)
      transfer = await mesh.curl('sym1', 'sym2', 9101, 2 * MiB, { seed: `trusted through the relay ${attempts}`, maxTimeSeconds: 20 })
      first ??= transfer
    }
    const line = `deny policy: 2 MiB sym1 -> sym2 ${transfer?.ok === true ? 'ok' : 'FAILED'} after ${attempts} attempt(s), ${((Date.now() - started) / 1000).toFixed(1)} s from the first${first?.ok === false ? ` (first attempt: curl exit ${first.exit}, ${first.stderr})` : ''}`
    t.diagnostic(line)
    console.log(`# natlab: ${line}`)
    const path = await mesh.path('sym1', 'sym2')
    await mesh.withLogs(['sym1', 'sym2', RELAY], () => {
      assert.ok(transfer?.ok, `2 MiB sym1 -> sym2: curl exit ${transfer?.exit}, ${transfer?.bytes} bytes: ${transfer?.stderr}`)
      assert.equal(path.connection, 'relayed')
    })
  })

  it('gives the untrusted peer no path: a forward to it fails at once and is counted', async () => {
    await mesh.forward('sym1', 'sym3', 9102)
    const transfer = await mesh.curl('sym1', 'sym3', 9102, 64 * 1024, { seed: 'untrusted through the relay', maxTimeSeconds: 20 })
    const view = (await mesh.daemon('sym1').forwards()).find(entry => entry.listen === '127.0.0.1:9102')
    await mesh.withLogs(['sym1', 'sym3', RELAY], () => {
      assert.notEqual(transfer.exit, 0, 'curl fails')
      assert.equal(transfer.bytes, 0)
      assert.ok(transfer.ms < 15_000, `the forward gives up within the dial timeout, not at curl's --max-time (${transfer.ms} ms)`)
      assert.equal(failureCount(view?.failures ?? {}), 1, `sym1 counts one failure (${JSON.stringify(view?.failures)})`)
      assert.equal(view?.failures.peer_unreachable, 1)
    })
  })
})

describe('NAT lab: an allowlist relay trusted in the README\'s order (after the sites reserved)', { skip: missing === false ? undefined : missing }, () => {
  let mesh: MeshLab
  let reservations = new Map<string, number | null>()
  const PAIRS = [{ src: 'sym1', dst: 'sym2', port: 9101 }, { src: 'sym2', dst: 'sym1', port: 9101 }]

  before(async () => {
    mesh = await MeshLab.create({
      sites: [{ name: RELAY, kind: 'public' }, { name: 'sym1', kind: 'symmetric' }, { name: 'sym2', kind: 'symmetric' }],
      relays: [RELAY],
      nodes: ['sym1', 'sym2'],
      // the test gives the relay its trust, after the reservations and a first forward
      relayTrusts: []
    })
    reservations = await mesh.waitForRelays(['sym1', 'sym2'], 1, 20_000)
    for (const pair of PAIRS) await mesh.forward(pair.src, pair.dst, pair.port)
  })

  after(async () => {
    await mesh?.destroy()
  })

  it('the sites hold reservations on the relay before it trusts them, and a forward over its limited circuit fails', async () => {
    const transfer = await mesh.curl('sym1', 'sym2', 9101, 64 * 1024, { seed: 'before the relay trusts', maxTimeSeconds: 20 })
    const view = (await mesh.daemon('sym1').forwards()).find(entry => entry.listen === '127.0.0.1:9101')
    await mesh.withLogs(['sym1', 'sym2', RELAY], async () => {
      for (const name of ['sym1', 'sym2']) assert.notEqual(reservations.get(name), null, `${name} holds a reservation, made while the relay did not trust it`)
      assert.deepEqual(await mesh.daemon(RELAY).api.trusted(), [], 'the relay trusts nobody yet')
      assert.notEqual(transfer.exit, 0, `with only an untrusted (limited) circuit, no tunnel: curl exited 0 with ${transfer.bytes} bytes`)
      assert.equal(transfer.bytes, 0)
      assert.equal(view?.failures.peer_unreachable, 1, `sym1 counts the forward as peer_unreachable (${JSON.stringify(view?.failures)})`)
    })
  })

  it('once the relay trusts both (trust add on the relay, no restart, no new reservation), 2 MiB cross it each way byte-exact', async t => {
    // the failed forward above put sym2 in sym1's re-dial backoff (src/forward/peer-backoff.ts):
    // for about a second new connections fail at once; a user's next command comes later than that
    await sleep(1_500)
    for (const name of ['sym1', 'sym2']) {
      const added = await mesh.daemon(RELAY).cli(['trust', 'add', mesh.daemon(name).peerId, '--name', name])
      assert.equal(added.code, 0, `agentmesh trust add ${name} on the relay: ${added.stderr}`)
    }
    const trustedAt = Date.now()
    const results: Array<{ pair: (typeof PAIRS)[number], transfer: Transfer, path: Awaited<ReturnType<MeshLab['path']>> }> = []
    for (const pair of PAIRS) {
      const transfer = await mesh.curl(pair.src, pair.dst, pair.port, 2 * MiB, { seed: `after trust ${pair.src}`, maxTimeSeconds: 20 })
      const path = await mesh.path(pair.src, pair.dst)
      results.push({ pair, transfer, path })
      const line = `2 MiB ${pair.src} -> ${pair.dst} over ${path.connection ?? 'none'} ${((Date.now() - trustedAt) / 1000).toFixed(1)} s after the relay's trust add: ${transfer.ok ? 'ok' : 'FAILED'}, ${(transfer.ms / 1000).toFixed(2)} s, ${rate(transfer.mibPerSecond)}`
      t.diagnostic(line)
      console.log(`# natlab: ${line}`)
    }
    const relays = await Promise.all(['sym1', 'sym2'].map(async name => (await mesh.daemon(name).status()).relays))
    await mesh.withLogs(['sym1', 'sym2', RELAY], () => {
      for (const { pair, transfer, path } of results) {
        assert.ok(transfer.ok, `2 MiB ${pair.src} -> ${pair.dst}: curl exit ${transfer.exit}, ${transfer.bytes} of ${2 * MiB} bytes, sha256 ${transfer.sha256 === transfer.expectedSha256 ? 'ok' : 'mismatch'}: ${transfer.stderr}`)
        assert.equal(path.connection, 'relayed', `${pair.src} -> ${pair.dst} is relayed`)
      }
      for (const held of relays) assert.deepEqual(held, [mesh.daemon(RELAY).peerId], 'each site still holds its reservation on the relay')
    })
  })
})
