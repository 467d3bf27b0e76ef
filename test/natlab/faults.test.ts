/**
 * Faults in the NAT lab: the relay dies under running tunnels, and comes back.
 *
 * One relay carries the mesh while the fault scenario runs: cone1 -> cone2 is a direct
 * pair (hole punched), sym1 -> sym2 a relayed one (two symmetric NATs). A paced (1 MiB/s)
 * curl runs on each when the relay is SIGKILLed: the direct copy must finish byte-exact,
 * the relayed one must fail (curl exits non-zero, short body) promptly, and the
 * forwarding daemon must say so (`forwards --json` failure counts and its log). Once the
 * relay is back (same data dir: same identity, same address), new tunnels on the sym
 * pair must work within 15 s with no command given to any daemon.
 *
 * Then a second relay (in every node's bootstrap list from the start, but down until
 * now) comes up: each NATed node must hold two reservations, keep at least one while
 * one relay is down, and hold two again once it is back. As a user would, the lab
 * learnt that relay's peer id and address from `id --json` on a first start before the
 * nodes started (its data directory keeps the identity), and it gets its `trust add` of
 * the nodes after each later start, as the first relay did after the nodes had started
 * and reserved (mesh-lab.ts).
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
import type { ForwardView } from '../../src/control/api.ts'
import type { Transfer } from './mesh-lab.ts'

const missing = labMissing() || missingTool('curl', 'curl')

const RELAY = 'relay'
const RELAY2 = 'relay2'
const NATED = ['cone1', 'cone2', 'sym1', 'sym2']
const DIRECT_PAIR = { src: 'cone1', dst: 'cone2', port: 9101 }
const RELAYED_PAIR = { src: 'sym1', dst: 'sym2', port: 9102 }
/** the long copies: 6 MiB at 1 MiB/s, so both still run when the relay dies */
const LONG_BYTES = 6 * MiB
const LONG_RATE = MiB
const RECOVERY_MS = 15_000
/** how long each pair gets for a first working tunnel before the fault scenario */
const WARM_UP_MS = 25_000
const RESERVATION_WAIT_MS = 30_000

describe('NAT lab: the relay dies and comes back', { skip: missing === false ? undefined : missing }, () => {
  let mesh: MeshLab
  /** how each pair's tunnel got established before the fault (the matrix judges first tunnels; here they only have to work) */
  const warm: Record<string, { attempts: number, seconds: number, transfer?: Transfer, first?: Transfer }> = {}

  before(async () => {
    mesh = await MeshLab.create({
      sites: [{ name: RELAY, kind: 'public' }, { name: RELAY2, kind: 'public' }, { name: 'cone1', kind: 'cone' }, { name: 'cone2', kind: 'cone' }, { name: 'sym1', kind: 'symmetric' }, { name: 'sym2', kind: 'symmetric' }],
      relays: [RELAY, RELAY2],
      nodes: NATED,
      // the fault scenario runs with one relay, so that the relayed tunnel depends on it
      deferredRelays: [RELAY2]
    })
    await mesh.waitForRelays(NATED, 1, 20_000)
    await Promise.all([DIRECT_PAIR, RELAYED_PAIR].map(async pair => {
      await mesh.forward(pair.src, pair.dst, pair.port)
      const started = Date.now()
      const entry: (typeof warm)[string] = { attempts: 0, seconds: 0 }
      warm[pair.src] = entry
      while (Date.now() - started < WARM_UP_MS && entry.transfer?.ok !== true) {
        if (entry.attempts > 0) await sleep(500)
        entry.attempts++
        entry.transfer = await mesh.curl(pair.src, pair.dst, pair.port, MiB, { seed: `warm-up ${pair.src} ${entry.attempts}`, maxTimeSeconds: 10 })
        entry.first ??= entry.transfer
        entry.seconds = (Date.now() - started) / 1000
      }
    }))
    // the cone pair then gets 15 s to go direct
    const deadline = Date.now() + 15_000
    while (Date.now() < deadline && (await mesh.path(DIRECT_PAIR.src, DIRECT_PAIR.dst)).connection !== 'direct') await sleep(250)
  })

  after(async () => {
    await mesh?.destroy()
  })

  const involved = [DIRECT_PAIR.src, DIRECT_PAIR.dst, RELAYED_PAIR.src, RELAYED_PAIR.dst, RELAY]

  async function forwardOf (src: string, port: number): Promise<ForwardView> {
    const view = (await mesh.daemon(src).forwards()).find(entry => entry.listen === `127.0.0.1:${port}`)
    if (view == null) throw new Error(`no forward on 127.0.0.1:${port} on ${src}`)
    return view
  }

  it('the relay is SIGKILLed under two running copies: the direct one finishes byte-exact, the relayed one fails clearly', async t => {
    await mesh.withLogs(involved, async () => {
      for (const pair of [DIRECT_PAIR, RELAYED_PAIR]) {
        const { transfer, first, attempts, seconds } = warm[pair.src] ?? { attempts: 0, seconds: 0 }
        t.diagnostic(`${pair.src} -> ${pair.dst} tunnel established: ${transfer?.ok === true ? `after ${attempts} attempt(s), ${seconds.toFixed(1)} s` : 'never'}${first?.ok === false ? ` (first attempt: curl exit ${first.exit}, ${first.stderr})` : ''}`)
        assert.ok(transfer?.ok, `no working tunnel ${pair.src} -> ${pair.dst} within ${WARM_UP_MS / 1000} s (${attempts} attempts; last: curl exit ${transfer?.exit}, ${transfer?.bytes} bytes: ${transfer?.stderr})`)
      }
      const direct = await mesh.path(DIRECT_PAIR.src, DIRECT_PAIR.dst)
      assert.equal(direct.connection, 'direct', `cone1 -> cone2 must be direct before the fault (it is ${direct.connection ?? 'not connected'}${direct.transport == null ? '' : ` over ${direct.transport}`})`)
      const relayed = await mesh.path(RELAYED_PAIR.src, RELAYED_PAIR.dst)
      assert.equal(relayed.connection, 'relayed', `sym1 -> sym2 must be relayed before the fault (it is ${relayed.connection ?? 'not connected'})`)
    })
    const before = { direct: await forwardOf(DIRECT_PAIR.src, DIRECT_PAIR.port), relayed: await forwardOf(RELAYED_PAIR.src, RELAYED_PAIR.port) }
    const copiesStarted = Date.now()
    const copies = [DIRECT_PAIR, RELAYED_PAIR].map(async pair => mesh.curl(pair.src, pair.dst, pair.port, LONG_BYTES, { seed: `fault ${pair.src}`, rate: LONG_RATE, maxTimeSeconds: 30 }))
    // both copies must be under way (bytes flowing through both forwards) when the relay dies
    const flowing = Date.now() + 10_000
    while (Date.now() < flowing) {
      const [direct, relayed] = await Promise.all([forwardOf(DIRECT_PAIR.src, DIRECT_PAIR.port), forwardOf(RELAYED_PAIR.src, RELAYED_PAIR.port)])
      if (direct.bytesIn - before.direct.bytesIn >= 512 * 1024 && relayed.bytesIn - before.relayed.bytesIn >= 512 * 1024) break
      await sleep(100)
    }
    const killedAt = Date.now()
    await mesh.daemon(RELAY).stop('SIGKILL')
    const [direct, relayed] = await Promise.all(copies) as [Transfer, Transfer]
    const relayedEndedAfterKillMs = copiesStarted + relayed.ms - killedAt
    t.diagnostic(`direct copy: curl exit ${direct.exit}, ${direct.bytes} of ${LONG_BYTES} bytes in ${(direct.ms / 1000).toFixed(1)} s (${rate(direct.mibPerSecond)}, paced to 1 MiB/s)`)
    t.diagnostic(`relayed copy: curl exit ${relayed.exit} (${relayed.stderr}), ${relayed.bytes} of ${LONG_BYTES} bytes, ended ${(relayedEndedAfterKillMs / 1000).toFixed(1)} s after the kill`)
    await mesh.withLogs(involved, async () => {
      assert.ok(direct.ok, `the direct copy finishes byte-exact: curl exit ${direct.exit}, ${direct.bytes} of ${LONG_BYTES} bytes, sha256 ${direct.sha256 === direct.expectedSha256 ? 'ok' : 'mismatch'}: ${direct.stderr}`)
      assert.notEqual(relayed.exit, 0, `the relayed copy fails: curl exited 0 with ${relayed.bytes} bytes`)
      assert.ok(relayed.bytes < LONG_BYTES, `the relayed copy is cut short (${relayed.bytes} of ${LONG_BYTES} bytes)`)
      assert.ok(relayedEndedAfterKillMs < 15_000, `the relayed copy fails as the relay dies, not at curl's --max-time (it ended ${relayedEndedAfterKillMs} ms after the kill: ${relayed.stderr})`)
      // the forwarding daemon counts the failed tunnel...
      const view = await waitUntil(async () => {
        const entry = await forwardOf(RELAYED_PAIR.src, RELAYED_PAIR.port)
        return failureCount(entry.failures) > failureCount(before.relayed.failures) ? entry : undefined
      }, 10_000)
      assert.ok(view != null, `sym1's forward counts the failure (failures before ${JSON.stringify(before.relayed.failures)}, now ${JSON.stringify((await forwardOf(RELAYED_PAIR.src, RELAYED_PAIR.port)).failures)})`)
      // ...the CLI shows the same...
      const cliView = (await mesh.daemon(RELAYED_PAIR.src).cliJson<ForwardView[]>(['forwards'])).find(entry => entry.listen === `127.0.0.1:${RELAYED_PAIR.port}`)
      assert.deepEqual(cliView?.failures, view.failures, '`agentmesh forwards --json` shows the failure counts')
      t.diagnostic(`sym1 forwards --json failures: ${JSON.stringify(view.failures)}`)
      // ...and logs one line that says which forward failed and why
      const line = logLinesSince(mesh.daemon(RELAYED_PAIR.src).logFile, killedAt).find(entry => entry.listen === `127.0.0.1:${RELAYED_PAIR.port}` && (entry.level === 'warn' || entry.level === 'error'))
      assert.ok(line != null, 'sym1 logs the failed forwarded connection (a warn line naming its listen address)')
      t.diagnostic(`sym1 log: ${JSON.stringify(line)}`)
      assert.ok(typeof line.msg === 'string' && line.msg.length > 0, 'the log line has a message')
    })
  })

  it('once the relay is back (same identity, same address), new tunnels on the sym pair work within 15 s without a command', async t => {
    if (mesh.daemon(RELAY).running) {
      // the previous test stopped before its fault: make it here, so that this one still tells something
      t.diagnostic('the relay was still up: SIGKILLing it first')
      await mesh.daemon(RELAY).stop('SIGKILL')
      await sleep(2_000)
    }
    await mesh.startRelay(RELAY)
    const back = Date.now()
    let attempts = 0
    let last: Transfer | undefined
    let workedAfter: number | undefined
    while (Date.now() - back < RECOVERY_MS) {
      attempts++
      last = await mesh.curl(RELAYED_PAIR.src, RELAYED_PAIR.dst, RELAYED_PAIR.port, 64 * 1024, { seed: `recovery probe ${attempts}`, maxTimeSeconds: 5 })
      if (last.ok) {
        workedAfter = (Date.now() - back) / 1000
        break
      }
      await sleep(250)
    }
    t.diagnostic(`sym1 -> sym2 after the relay came back: ${workedAfter == null ? `not within ${RECOVERY_MS / 1000} s` : `first tunnel worked ${workedAfter.toFixed(1)} s after the relay answered`} (${attempts} attempts)`)
    await mesh.withLogs([RELAYED_PAIR.src, RELAYED_PAIR.dst, RELAY], async () => {
      assert.ok(workedAfter != null, `no working tunnel within ${RECOVERY_MS / 1000} s of the relay's return (${attempts} attempts; last: curl exit ${last?.exit}, ${last?.bytes} bytes: ${last?.stderr})`)
      const copy = await mesh.curl(RELAYED_PAIR.src, RELAYED_PAIR.dst, RELAYED_PAIR.port, 8 * MiB, { seed: 'after the relay came back', maxTimeSeconds: 30 })
      assert.ok(copy.ok, `8 MiB after recovery: curl exit ${copy.exit}, ${copy.bytes} bytes, sha256 ${copy.sha256 === copy.expectedSha256 ? 'ok' : 'mismatch'}: ${copy.stderr}`)
      const path = await mesh.path(RELAYED_PAIR.src, RELAYED_PAIR.dst)
      t.diagnostic(`8 MiB sym1 -> sym2 after recovery over ${path.connection ?? 'none'}: ${rate(copy.mibPerSecond)}`)
    })
  })

  it('with two relays each NATed node holds two reservations, keeps one while a relay is down, and two again once it is back', async t => {
    await mesh.startRelay(RELAY2)
    const relay2 = mesh.daemon(RELAY2).peerId
    const two = await mesh.waitForRelays(NATED, 2, RESERVATION_WAIT_MS, mesh.daemon(RELAY2).startedAt)
    t.diagnostic(`2 reservations after relay2 started: ${secondsText(two)}`)
    await mesh.withLogs([...NATED, RELAY, RELAY2], async () => {
      const short = [...two].filter(([, s]) => s == null).map(([name]) => name)
      assert.deepEqual(short, [], `status --json relays has 2 entries within ${RESERVATION_WAIT_MS / 1000} s of relay2's start on every NATed node; not on: ${await relaysText(short)}`)
    })

    // relay2 dies: every node must go on holding the other reservation, and drop relay2's
    const killedAt = Date.now()
    await mesh.daemon(RELAY2).stop('SIGKILL')
    const lowest = new Map(NATED.map(name => [name, 2]))
    const dropped = new Map<string, number>()
    while (Date.now() - killedAt < 20_000 && dropped.size < NATED.length) {
      await Promise.all(NATED.map(async name => {
        const relays = (await mesh.daemon(name).status()).relays
        lowest.set(name, Math.min(lowest.get(name) ?? 2, relays.length))
        if (!relays.includes(relay2) && !dropped.has(name)) dropped.set(name, (Date.now() - killedAt) / 1000)
      }))
      await sleep(250)
    }
    t.diagnostic(`relay2 down: dropped from status after ${NATED.map(name => `${name} ${dropped.get(name)?.toFixed(1) ?? 'never'} s`).join(', ')}; fewest reservations seen ${JSON.stringify(Object.fromEntries(lowest))}`)
    await mesh.withLogs([...NATED, RELAY], async () => {
      for (const name of NATED) assert.ok((lowest.get(name) ?? 0) >= 1, `${name} kept at least one reservation while relay2 was down (fewest seen: ${lowest.get(name)})`)
      const stale = NATED.filter(name => !dropped.has(name))
      assert.deepEqual(stale, [], `nodes still listing the dead relay2 after 20 s: ${await relaysText(stale)}`)
    })

    // relay2 is back: two reservations again, no command given
    await mesh.startRelay(RELAY2)
    const again = await mesh.waitForRelays(NATED, 2, RESERVATION_WAIT_MS, mesh.daemon(RELAY2).startedAt)
    t.diagnostic(`relay2 back: 2 reservations again after ${secondsText(again)}`)
    await mesh.withLogs([...NATED, RELAY, RELAY2], async () => {
      const short = [...again].filter(([, s]) => s == null).map(([name]) => name)
      assert.deepEqual(short, [], `2 reservations again within ${RESERVATION_WAIT_MS / 1000} s of relay2's return; not on: ${await relaysText(short)}`)
    })
  })

  async function relaysText (names: string[]): Promise<string> {
    const ids = new Map([...mesh.daemons.values()].map(daemon => [daemon.peerId, daemon.name]))
    const parts = await Promise.all(names.map(async name => {
      const relays = (await mesh.daemon(name).status().catch(() => undefined))?.relays
      return `${name} [${relays?.map(id => ids.get(id) ?? id).join(', ') ?? 'no status'}]`
    }))
    return parts.join(', ')
  }
})

/** `cone1 2.1 s, cone2 never, ...` */
function secondsText (seconds: Map<string, number | null>): string {
  return [...seconds].map(([name, s]) => `${name} ${s == null ? 'never' : `${s.toFixed(1)} s`}`).join(', ')
}

/** Polls `check` every 200 ms until it gives a value, or undefined after `timeoutMs`. */
async function waitUntil<T> (check: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    await sleep(200)
  }
  return undefined
}

/** The JSON log lines of a daemon written at or after `since` (ms). */
function logLinesSince (file: string, since: number): Array<Record<string, any>> {
  return readFileSync(file, 'utf8').split('\n').flatMap(line => {
    if (!line.startsWith('{')) return []
    try {
      const entry = JSON.parse(line)
      return typeof entry.time === 'number' && entry.time >= since ? [entry] : []
    } catch {
      return []
    }
  })
}
