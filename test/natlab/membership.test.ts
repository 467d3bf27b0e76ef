/**
 * The NAT lab with a member relay and membership made after start (issue 12): a relay,
 * a public site, two cone-NAT sites and two symmetric-NAT sites start with no trust at
 * all, each making its own identity. The NATed sites reserve on the relay, untrusted.
 * Then, as a user would: `public` runs `agentmesh network init fleet`; it invites every
 * other node by the peer id that node's `id --json` printed (the relay with `--relay`),
 * and each runs `agentmesh join <token>`. No `trust add` anywhere.
 *
 * Then every ordered pair of sites (20) tunnels: an HTTP fetch through a forward to the
 * other site's `web` service, byte-exact, the first attempt, one pair at a time (seconds
 * per pair reported). And 8 MiB cross the relayed pair (sym1 -> sym2: two symmetric NATs
 * stay relayed) byte-exact: far past the untrusted 128 KiB, so the relay gave that
 * circuit no limits, trusting both ends only as members, whose membership it learnt
 * after their reservations were made.
 *
 * The table (pair, path, ok, seconds) is printed as markdown; speed is never asserted.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { MiB } from '../helpers/services/data.ts'
import { missingTool } from '../helpers/services/tools.ts'
import { labMissing } from './lab.ts'
import { MeshLab, rate } from './mesh-lab.ts'
import type { Transfer } from './mesh-lab.ts'
import type { IdView, MemberView, PeerView } from '../../src/control/api.ts'
import type { NatKind } from './lab.ts'

const missing = labMissing() || missingTool('curl', 'curl')

const RELAY = 'relay'
const ADMIN = 'public'
const NETWORK = 'fleet'
const SITES: Array<{ name: string, kind: NatKind }> = [
  { name: 'public', kind: 'public' },
  { name: 'cone1', kind: 'cone' },
  { name: 'cone2', kind: 'cone' },
  { name: 'sym1', kind: 'symmetric' },
  { name: 'sym2', kind: 'symmetric' }
]
const NATED = SITES.filter(site => site.kind !== 'public').map(site => site.name)
/** each pair's fetch: small, so that 20 pairs stay quick */
const PAIR_BYTES = 64 * 1024
const BIG_BYTES = 8 * MiB
const RELAYED = { src: 'sym1', dst: 'sym2' }
/** from the last join to the relay listing every site as a member it verified */
const RELAY_LEARNS_MS = 15_000
/** past this the remaining fetches run all at once, so that a broken build still ends in time */
const PAIRS_BUDGET_MS = 60_000

interface Cell {
  src: string
  dst: string
  transfer?: Transfer
  after?: { connection: PeerView['connection'], transport?: string }
  concurrent?: boolean
  error?: string
}

/** The forward port on `src` for `dst`. */
const forwardPort = (dst: string): number => 9200 + SITES.findIndex(site => site.name === dst)

const pathText = (path?: { connection: PeerView['connection'], transport?: string }): string =>
  path?.connection == null ? 'none' : `${path.connection}${path.transport == null ? '' : ` (${path.transport})`}`

describe('NAT lab: a member relay, membership made after start, no trust add', { skip: missing === false ? undefined : missing }, () => {
  let mesh: MeshLab
  /** per NATed site, the seconds from its start to its first reservation (made while nobody trusted anybody) */
  let reservations = new Map<string, number | null>()
  /** the allowlists of every daemon before and after membership: empty */
  const allowlists = new Map<string, unknown[]>()
  /** `join` results, per node */
  const joins = new Map<string, { code: number, stdout: string, stderr: string }>()
  let joinedAt = 0
  /** seconds from the last join until the relay listed every site as a member, or null */
  let relayLearnt: number | null = null
  let relayMembers: MemberView[] = []
  const cells: Cell[] = []

  before(async () => {
    mesh = await MeshLab.create({
      sites: [{ name: RELAY, kind: 'public' }, ...SITES],
      relays: [RELAY],
      nodes: SITES.map(site => site.name),
      relayTrusts: [],
      nodesTrustEachOther: false
    })
    // the NATed sites reserve on the relay before any membership exists
    reservations = await mesh.waitForRelays(NATED, 1, 20_000)
    for (const [name, daemon] of mesh.daemons) allowlists.set(name, await daemon.api.trusted())

    // the user's steps: network init on the admin, an invite per peer id read from id --json, join on each
    const init = await mesh.daemon(ADMIN).cli(['network', 'init', NETWORK])
    if (init.code !== 0) throw new Error(`network init ${NETWORK} on ${ADMIN}: exit ${init.code}: ${init.stderr}`)
    for (const name of [RELAY, ...SITES.map(site => site.name).filter(name => name !== ADMIN)]) {
      const { peerId } = await mesh.daemon(name).cliJson<IdView>(['id'])
      const invite = await mesh.daemon(ADMIN).cli(['invite', peerId, '--name', name, ...(name === RELAY ? ['--relay'] : [])])
      if (invite.code !== 0) throw new Error(`invite ${name} on ${ADMIN}: exit ${invite.code}: ${invite.stderr}`)
      const token = invite.stdout.trim()
      if (token === '' || /\s/.test(token)) throw new Error(`invite ${name} printed more than a token on stdout: ${JSON.stringify(invite.stdout)}`)
      joins.set(name, await mesh.daemon(name).cli(['join', token]))
    }
    joinedAt = Date.now()
    for (const [name, daemon] of mesh.daemons) allowlists.set(`${name} after`, await daemon.api.trusted())

    // the relay learns each site's membership over the connection the site reserved on
    const sites = new Set(SITES.map(site => mesh.daemon(site.name).peerId))
    while (Date.now() - joinedAt < RELAY_LEARNS_MS) {
      relayMembers = await mesh.daemon(RELAY).api.members().catch(() => relayMembers)
      if ([...sites].every(peerId => relayMembers.some(member => member.peerId === peerId && member.network === NETWORK))) {
        relayLearnt = (Date.now() - joinedAt) / 1000
        break
      }
      await sleep(250)
    }

    for (const src of SITES) {
      for (const dst of SITES) {
        if (src === dst) continue
        await mesh.forward(src.name, dst.name, forwardPort(dst.name))
        cells.push({ src: src.name, dst: dst.name })
      }
    }
    // one fetch at a time, each pair's first tunnel; past the budget the rest run at once
    const started = Date.now()
    const late: Array<Promise<void>> = []
    for (const cell of cells) {
      if (Date.now() - started < PAIRS_BUDGET_MS) {
        await fetch(cell)
      } else {
        cell.concurrent = true
        late.push(fetch(cell))
      }
    }
    await Promise.all(late)
    console.log(table(cells, reservations, relayLearnt))
  })

  async function fetch (cell: Cell): Promise<void> {
    try {
      cell.transfer = await mesh.curl(cell.src, cell.dst, forwardPort(cell.dst), PAIR_BYTES, { seed: `members ${cell.src}->${cell.dst}`, maxTimeSeconds: 20 })
      cell.after = await mesh.path(cell.src, cell.dst)
    } catch (err: any) {
      cell.error = err.message
    }
  }

  after(async () => {
    await mesh?.destroy()
  })

  it('starts with no trust anywhere, and the NATed sites reserve on the relay untrusted', async () => {
    await mesh.withLogs([...NATED, RELAY], () => {
      for (const [name, list] of allowlists) assert.deepEqual(list, [], `${name}: trust ls is empty`)
      const none = [...reservations].filter(([, seconds]) => seconds == null).map(([name]) => name)
      assert.deepEqual(none, [], 'every NATed site holds a reservation before the network exists')
    })
  })

  it('network init, invite by the peer id from id --json, join: every node a member', async () => {
    await mesh.withLogs([ADMIN, RELAY], async () => {
      for (const [name, result] of joins) assert.equal(result.code, 0, `join on ${name}: ${result.stderr}`)
      const members = await mesh.daemon(ADMIN).cliJson<MemberView[]>(['members'])
      for (const name of mesh.daemons.keys()) {
        const member = members.find(entry => entry.peerId === mesh.daemon(name).peerId && entry.network === NETWORK)
        assert.ok(member != null, `${ADMIN}'s members --json lists ${name}`)
        assert.equal(member.name, name)
        if (name === RELAY) assert.equal(member.role, 'relay')
      }
    })
  })

  it(`the relay verifies every site's membership within ${RELAY_LEARNS_MS / 1000} s of the joins`, async t => {
    t.diagnostic(`relay knew every site as a member ${relayLearnt == null ? 'never' : `${relayLearnt.toFixed(1)} s`} after the last join`)
    await mesh.withLogs([RELAY, ...NATED], () => {
      const names = new Map([...mesh.daemons.values()].map(daemon => [daemon.peerId, daemon.name]))
      assert.notEqual(relayLearnt, null, `the relay's members: ${relayMembers.map(member => names.get(member.peerId) ?? member.peerId).join(', ')}`)
    })
  })

  it('every ordered pair (20) tunnels at the first attempt, byte-exact', () => {
    assert.equal(cells.length, 20)
    const failed = cells.filter(cell => cell.transfer?.ok !== true)
    if (failed.length === 0) return
    const lines = failed.map(cell => `  ${cell.src} -> ${cell.dst}: ${cell.error ?? `curl exit ${cell.transfer?.exit}, ${cell.transfer?.bytes} of ${PAIR_BYTES} bytes (${cell.transfer?.stderr || 'no stderr'}), path ${pathText(cell.after)}`}`)
    const logs = failed.slice(0, 3).map(cell => mesh.explain([cell.src, cell.dst, RELAY], 20))
    assert.fail(`${failed.length} of ${cells.length} pairs failed:\n${lines.join('\n')}\n${logs.join('\n')}\n(all logs: ${mesh.dir})`)
  })

  it('8 MiB cross the relayed pair byte-exact: the member relay gives members unlimited circuits', async t => {
    const before = await mesh.path(RELAYED.src, RELAYED.dst)
    const transfer = await mesh.curl(RELAYED.src, RELAYED.dst, forwardPort(RELAYED.dst), BIG_BYTES, { seed: 'members 8 MiB relayed', maxTimeSeconds: 30 })
    const afterwards = await mesh.path(RELAYED.src, RELAYED.dst)
    const relayTrust = await mesh.daemon(RELAY).api.trusted()
    const line = `8 MiB ${RELAYED.src} -> ${RELAYED.dst} over ${pathText(afterwards)}: ${transfer.ok ? 'ok' : 'FAILED'}, ${(transfer.ms / 1000).toFixed(2)} s, ${rate(transfer.mibPerSecond)}`
    t.diagnostic(line)
    console.log(`# natlab: ${line}`)
    await mesh.withLogs([RELAYED.src, RELAYED.dst, RELAY], () => {
      assert.deepEqual(relayTrust, [], 'the relay trusts nobody through its allowlist: only membership lifts the limits')
      assert.equal(before.connection, 'relayed', `the sym pair is relayed before the copy (it is ${pathText(before)})`)
      assert.ok(transfer.ok, `8 MiB relayed: curl exit ${transfer.exit}, ${transfer.bytes} of ${BIG_BYTES} bytes, sha256 ${transfer.sha256 === transfer.expectedSha256 ? 'ok' : 'mismatch'}: ${transfer.stderr}`)
      assert.equal(afterwards.connection, 'relayed', 'still relayed after the copy')
    })
  })
})

/** The pairs as markdown, then the reservation times. */
function table (cells: Cell[], reservations: Map<string, number | null>, relayLearnt: number | null): string {
  const rows = cells.map(cell => {
    const transfer = cell.transfer
    const ok = cell.error != null ? `error: ${cell.error.split('\n')[0]}` : transfer == null ? '-' : transfer.ok ? 'ok' : `FAILED (curl exit ${transfer.exit}, ${transfer.bytes} bytes)`
    return `| ${cell.src} -> ${cell.dst} | ${pathText(cell.after)} | ${ok} | ${transfer == null ? '-' : (transfer.ms / 1000).toFixed(2)}${cell.concurrent === true ? ' (concurrent)' : ''} |`
  })
  return [
    '',
    `## NAT lab, membership made after start (${PAIR_BYTES / 1024} KiB per ordered pair, first tunnel)`,
    '',
    '| pair | path after | ok | seconds |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    `reservations (s from start, untrusted): ${[...reservations].map(([name, s]) => `${name} ${s == null ? 'none' : s.toFixed(1)}`).join(', ')}; the relay knew every site as a member ${relayLearnt == null ? 'never' : `${relayLearnt.toFixed(1)} s`} after the last join`,
    ''
  ].join('\n')
}
