/**
 * The path matrix: a relay and five sites (public, cone1, cone2, sym1, sym2), each site
 * with a daemon and an HTTP server behind `expose`. For each of the 20 ordered pairs,
 * the source forwards a local port to the destination's service and curl, in the
 * source's namespace, fetches 8 MiB through it, byte-exact. `peers --json` on the source
 * says which path the pair took (right after the copy, and polled from the first tunnel
 * until it turns direct or 15 s have passed).
 *
 * Expected: cone<->cone, cone<->public and public<->anything direct within 15 s;
 * sym<->sym relayed (no hole punching through two symmetric NATs) and carrying the bytes;
 * cone<->sym whatever it is, reported. Then 64 MiB over the relayed sym pair (far past
 * circuit relay v2's default 128 KiB per connection) and over a direct pair, for the
 * throughput figures, and each NATed daemon's time from start to its first reservation.
 *
 * Trust is built in the order a user can follow (mesh-lab.ts): every daemon makes its
 * identity on its first start; the sites trust each other once all have printed their
 * ids, and the relay trusts them only once the NATed sites hold their first (untrusted,
 * limited) reservations. The relayed copies therefore also check that the relay decides
 * limits per circuit, not when a reservation is made.
 *
 * The matrix, the throughputs and the reservation times are printed (console.log) as
 * markdown for the closing note; speed is never asserted.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { MiB } from '../helpers/services/data.ts'
import { missingTool } from '../helpers/services/tools.ts'
import { labMissing } from './lab.ts'
import { MeshLab, rate } from './mesh-lab.ts'
import type { Transfer } from './mesh-lab.ts'
import type { PeerView } from '../../src/control/api.ts'
import type { NatKind } from './lab.ts'

const missing = labMissing() || missingTool('curl', 'curl')

const RELAY = 'relay'
const SITES: Array<{ name: string, kind: NatKind }> = [
  { name: 'public', kind: 'public' },
  { name: 'cone1', kind: 'cone' },
  { name: 'cone2', kind: 'cone' },
  { name: 'sym1', kind: 'symmetric' },
  { name: 'sym2', kind: 'symmetric' }
]
const NATED = SITES.filter(site => site.kind !== 'public').map(site => site.name)
const COPY_BYTES = 8 * MiB
const BIG_BYTES = 64 * MiB
/** from a pair's first tunnel to a direct connection */
const DIRECT_WITHIN_MS = 15_000
/** how long the NATed daemons get for their first reservation before the matrix starts */
const RESERVATION_WAIT_MS = 20_000
/** past this the remaining copies run all at once, so that a badly broken build still ends in time */
const MATRIX_BUDGET_MS = 75_000

type Expectation = 'direct' | 'relayed' | 'report'

interface Cell {
  src: string
  dst: string
  /** public, cone or sym on each side, e.g. `cone<->sym` */
  category: string
  expect: Expectation
  /** the source's view of the destination when the copy started */
  before: PeerView['connection']
  /** ...and right after it */
  after: { connection: PeerView['connection'], transport?: string }
  /** ...and at the end of the 15 s window (or when it turned direct) */
  final: { connection: PeerView['connection'], transport?: string }
  /** from the start of this pair's first copy to `peers` saying direct; null if not within 15 s */
  secondsToDirect: number | null
  transfer?: Transfer
  /** run alongside the other late copies (the matrix ran past its budget): its throughput is not its own */
  concurrent?: boolean
  error?: string
}

const short = (kind: NatKind): string => kind === 'symmetric' ? 'sym' : kind
const kindOf = (name: string): NatKind => SITES.find(site => site.name === name)?.kind ?? 'public'

function expectation (src: NatKind, dst: NatKind): Expectation {
  if (src === 'public' || dst === 'public') return 'direct'
  if (src === 'cone' && dst === 'cone') return 'direct'
  if (src === 'symmetric' && dst === 'symmetric') return 'relayed'
  return 'report'
}

/** The forward port on `src` for `dst`: one per destination, in src's own namespace. */
const forwardPort = (dst: string): number => 9100 + SITES.findIndex(site => site.name === dst)

const pathText = (path: { connection: PeerView['connection'], transport?: string }): string =>
  path.connection == null ? 'none' : `${path.connection}${path.transport == null ? '' : ` (${path.transport})`}`

describe('NAT lab: the path matrix', { skip: missing === false ? undefined : missing }, () => {
  let mesh: MeshLab
  const cells: Cell[] = []
  let reservations = new Map<string, number | null>()
  /** conntrack entries of UDP flows between the two symmetric NATs' routers, at the end of the matrix */
  const symFlows: string[] = []

  before(async () => {
    mesh = await MeshLab.create({
      sites: [{ name: RELAY, kind: 'public' }, ...SITES],
      relays: [RELAY],
      nodes: SITES.map(site => site.name)
    })
    reservations = await mesh.waitForRelays(NATED, 1, RESERVATION_WAIT_MS)
    for (const src of SITES) {
      for (const dst of SITES) {
        if (src === dst) continue
        await mesh.forward(src.name, dst.name, forwardPort(dst.name))
      }
    }
    for (const src of SITES) {
      for (const dst of SITES) {
        if (src === dst) continue
        cells.push({
          src: src.name,
          dst: dst.name,
          category: [short(src.kind), short(dst.kind)].sort().join('<->'),
          expect: expectation(src.kind, dst.kind),
          before: null,
          after: { connection: null },
          final: { connection: null },
          secondsToDirect: null
        })
      }
    }
    // one copy at a time, so that each throughput figure is the pair's own; past the
    // budget (a build where copies hang until their timeouts) the rest run all at once
    const started = Date.now()
    const pollers: Array<Promise<void>> = []
    const late: Array<Promise<void>> = []
    for (const cell of cells) {
      if (Date.now() - started < MATRIX_BUDGET_MS) {
        await copy(cell, pollers)
      } else {
        cell.concurrent = true
        late.push(copy(cell, pollers))
      }
    }
    await Promise.all(late)
    await Promise.all(pollers)
    // UDP flows between the two symmetric NATs, if any: a direct sym<->sym path would have to be one
    for (const [a, b] of [['sym1', 'sym2'], ['sym2', 'sym1']]) {
      const peer = mesh.lab.site(b).publicAddress
      const entries = await mesh.lab.routerConntrack(a, 'udp').catch((err: Error) => [`(no conntrack table: ${err.message})`])
      symFlows.push(...entries.filter(entry => entry.includes(`=${peer} `)).map(entry => `${a} router: ${entry}`))
    }
    console.log(matrixTable(cells, reservations))
  })

  /** One 8 MiB copy through the forward, with the source's view of the destination before and after it, and a poller that watches it go direct. */
  async function copy (cell: Cell, pollers: Array<Promise<void>>): Promise<void> {
    try {
      cell.before = (await mesh.path(cell.src, cell.dst)).connection
      pollers.push(pollDirect(cell, Date.now()))
      cell.transfer = await mesh.curl(cell.src, cell.dst, forwardPort(cell.dst), COPY_BYTES, { seed: `matrix ${cell.src}->${cell.dst}`, maxTimeSeconds: 20 })
      cell.after = await mesh.path(cell.src, cell.dst)
    } catch (err: any) {
      cell.error = err.message
    }
  }

  /** Polls the source's view of the destination from `t0` until it is direct or the window closes. */
  async function pollDirect (cell: Cell, t0: number): Promise<void> {
    while (Date.now() - t0 < DIRECT_WITHIN_MS) {
      const path = await mesh.path(cell.src, cell.dst).catch(() => undefined)
      if (path != null) cell.final = path
      if (path?.connection === 'direct') {
        cell.secondsToDirect = (Date.now() - t0) / 1000
        return
      }
      await sleep(250)
    }
  }

  after(async () => {
    await mesh?.destroy()
  })

  /** The cells that fail `ok`, each with the logs of its two daemons and the relay. */
  function failures (selected: Cell[], ok: (cell: Cell) => boolean, describeCell: (cell: Cell) => string): string | undefined {
    const failed = selected.filter(cell => !ok(cell))
    if (failed.length === 0) return undefined
    const lines = failed.map(cell => `  ${cell.src} -> ${cell.dst}: ${describeCell(cell)}`)
    // the logs of the first failures are enough to see why; all of them are kept on disk
    const logs = failed.slice(0, 3).map(cell => mesh.explain([cell.src, cell.dst, RELAY], 20))
    return `${failed.length} of ${selected.length} pairs:\n${lines.join('\n')}\n${logs.join('\n')}\n(all logs: ${mesh.dir})`
  }

  const transferText = (cell: Cell): string => cell.error ?? (cell.transfer == null
    ? 'no copy'
    : `curl exit ${cell.transfer.exit}, ${cell.transfer.bytes} of ${cell.transfer.expectedBytes} bytes, sha256 ${cell.transfer.sha256 === cell.transfer.expectedSha256 ? 'ok' : 'MISMATCH'} (${cell.transfer.stderr || 'no stderr'}); path after: ${pathText(cell.after)}`)

  it('the relay trusted the sites only after the NATed ones had reserved (the README\'s order)', async () => {
    const relayTrust = (await mesh.daemon(RELAY).api.trusted()).map(entry => entry.peerId)
    assert.deepEqual(Object.fromEntries(mesh.reservedBeforeRelayTrust), Object.fromEntries(NATED.map(name => [name, true])), 'every NATed site held a reservation before the relay trusted it')
    assert.deepEqual(relayTrust.sort(), SITES.map(site => mesh.daemon(site.name).peerId).sort(), 'the relay trusts every site now')
  })

  it('every ordered pair (20) carries 8 MiB byte-exact through a forward', () => {
    assert.equal(cells.length, 20)
    const problem = failures(cells, cell => cell.transfer?.ok === true, transferText)
    assert.equal(problem, undefined, `copies that failed: ${problem}`)
  })

  it('cone<->cone, cone<->public and public<->anything are direct within 15 s of the first tunnel', () => {
    const problem = failures(cells.filter(cell => cell.expect === 'direct'), cell => cell.secondsToDirect != null,
      cell => `still ${pathText(cell.final)} after 15 s (before the copy: ${cell.before ?? 'none'}; ${transferText(cell)})`)
    assert.equal(problem, undefined, `pairs that did not go direct: ${problem}`)
  })

  it('sym<->sym stays relayed and carries the bytes', () => {
    const problem = failures(cells.filter(cell => cell.expect === 'relayed'),
      cell => cell.transfer?.ok === true && cell.after.connection === 'relayed' && cell.final.connection === 'relayed',
      cell => `path after the copy ${pathText(cell.after)}, at the end ${pathText(cell.final)}; ${transferText(cell)}`)
    const flows = symFlows.length === 0 ? 'no UDP flow between the two symmetric NATs in their routers\' conntrack tables' : `UDP flows between the symmetric NATs:\n${symFlows.join('\n')}`
    assert.equal(problem, undefined, `sym<->sym: ${problem}\n${flows}`)
  })

  it('cone<->sym carries the bytes on a path that exists: relayed through the relay, or direct over WebRTC (reported)', t => {
    const mixed = cells.filter(cell => cell.expect === 'report')
    assert.equal(mixed.length, 8, 'two cone and two symmetric sites: 8 ordered cone<->sym pairs')
    for (const cell of mixed) {
      t.diagnostic(`${cell.src} -> ${cell.dst}: ${pathText(cell.final)}, direct after ${cell.secondsToDirect ?? 'never (15 s)'} s, copy ${cell.transfer?.ok === true ? 'ok' : 'FAILED'}`)
    }
    // whether ICE gets through depends on which side's NAT sees the first packet; either outcome is a working path,
    // but a direct path between NATed sites can only be a punched WebRTC one, and a relayed one goes through the relay
    const problem = failures(mixed,
      cell => cell.transfer?.ok === true && (cell.final.connection === 'relayed' ? cell.final.transport === 'relay' : cell.final.connection === 'direct' && cell.final.transport === 'webrtc'),
      cell => `at the end ${pathText(cell.final)}; ${transferText(cell)}`)
    assert.equal(problem, undefined, `cone<->sym: ${problem}`)
  })

  it('a relayed tunnel carries 64 MiB byte-exact (sym1 -> sym2), far past circuit relay\'s default 128 KiB', async t => {
    const before = await mesh.path('sym1', 'sym2')
    const transfer = await mesh.curl('sym1', 'sym2', forwardPort('sym2'), BIG_BYTES, { seed: 'matrix relayed 64 MiB', maxTimeSeconds: 60 })
    const afterwards = await mesh.path('sym1', 'sym2')
    const line = `64 MiB sym1 -> sym2 over ${pathText(afterwards)}: ${transfer.ok ? 'ok' : 'FAILED'}, ${(transfer.ms / 1000).toFixed(1)} s, ${rate(transfer.mibPerSecond)}`
    t.diagnostic(line)
    console.log(`# natlab: ${line}`)
    await mesh.withLogs(['sym1', 'sym2', RELAY], () => {
      assert.equal(before.connection, 'relayed', `the sym pair is relayed before the copy (it is ${pathText(before)})`)
      assert.ok(transfer.ok, `64 MiB relayed: curl exit ${transfer.exit}, ${transfer.bytes} of ${BIG_BYTES} bytes, sha256 ${transfer.sha256 === transfer.expectedSha256 ? 'ok' : 'mismatch'}: ${transfer.stderr}`)
      assert.equal(afterwards.connection, 'relayed', 'still relayed after the copy')
    })
  })

  it('direct tunnels carry 64 MiB byte-exact (cone1 -> cone2, cone1 -> public): throughput against the relayed one', async t => {
    const lines: string[] = []
    const problems: string[] = []
    for (const [src, dst] of [['cone1', 'cone2'], ['cone1', 'public']] as const) {
      const transfer = await mesh.curl(src, dst, forwardPort(dst), BIG_BYTES, { seed: `matrix direct 64 MiB ${src}->${dst}`, maxTimeSeconds: 60 })
      const path = await mesh.path(src, dst)
      lines.push(`64 MiB ${src} -> ${dst} over ${pathText(path)}: ${transfer.ok ? 'ok' : 'FAILED'}, ${(transfer.ms / 1000).toFixed(1)} s, ${rate(transfer.mibPerSecond)}`)
      if (!transfer.ok) problems.push(`${src} -> ${dst}: curl exit ${transfer.exit}, ${transfer.bytes} of ${BIG_BYTES} bytes: ${transfer.stderr}\n${mesh.explain([src, dst, RELAY], 20)}`)
      else if (path.connection !== 'direct') problems.push(`${src} -> ${dst} is ${pathText(path)}, not direct\n${mesh.explain([src, dst, RELAY], 20)}`)
    }
    for (const line of lines) {
      t.diagnostic(line)
      console.log(`# natlab: ${line}`)
    }
    assert.deepEqual(problems, [])
  })

  it('every NATed daemon holds a relay reservation soon after it starts', t => {
    for (const [name, seconds] of reservations) t.diagnostic(`${name}: first reservation ${seconds == null ? `none within ${RESERVATION_WAIT_MS / 1000} s` : `${seconds.toFixed(1)} s after start`}`)
    const none = [...reservations].filter(([, seconds]) => seconds == null).map(([name]) => name)
    assert.deepEqual(none, [], `no reservation within ${RESERVATION_WAIT_MS / 1000} s of start (status --json relays stayed empty):\n${none.length === 0 ? '' : mesh.explain([...none, RELAY], 20)}`)
  })
})

/** The matrix as markdown: one row per ordered pair, then the reservation times. */
function matrixTable (cells: Cell[], reservations: Map<string, number | null>): string {
  const rows = cells.map(cell => {
    const transfer = cell.transfer
    const copy = cell.error != null ? `error: ${cell.error.split('\n')[0]}` : transfer == null ? '-' : transfer.ok ? `ok, ${(transfer.ms / 1000).toFixed(2)} s, ${rate(transfer.mibPerSecond)}${cell.concurrent === true ? ' (concurrent)' : ''}` : `FAILED (curl exit ${transfer.exit}, ${transfer.bytes} bytes)`
    return `| ${cell.src} -> ${cell.dst} | ${cell.category} | ${cell.expect} | ${cell.before ?? 'none'} | ${pathText(cell.after)} | ${pathText(cell.final)} | ${cell.secondsToDirect == null ? 'not within 15 s' : cell.secondsToDirect.toFixed(2)} | ${copy} |`
  })
  const reserved = [...reservations].map(([name, seconds]) => `| ${name} (${kindOf(name)}) | ${seconds == null ? `none within ${RESERVATION_WAIT_MS / 1000} s` : seconds.toFixed(1)} |`)
  return [
    '',
    '## NAT lab path matrix (8 MiB per ordered pair)',
    '',
    '| pair | kinds | expected | before copy | after copy | end of window | s to direct | 8 MiB copy |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '| NATed daemon | s from start to first reservation |',
    '| --- | --- |',
    ...reserved,
    ''
  ].join('\n')
}
