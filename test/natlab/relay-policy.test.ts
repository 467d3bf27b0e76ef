/**
 * The relay's allowlist decides whom it relays for (`relay.untrusted = "deny"`): sym1,
 * sym2 and sym3 sit behind symmetric NATs, so the relay is their only path between them;
 * the relay trusts sym1 and sym2. Those two hold reservations and their tunnels run over
 * the relay without limits; sym3 gets no reservation and cannot open a circuit, and a
 * forward from sym1 to it fails at once with the failure counted, instead of hanging.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { MiB } from '../helpers/services/data.ts'
import { failureCount } from '../helpers/services/mesh.ts'
import { missingTool } from '../helpers/services/process.ts'
import { labMissing } from './lab.ts'
import { MeshLab } from './mesh-lab.ts'

const missing = await labMissing() || missingTool('curl', ['--version'], 'curl')

const RELAY = 'relay'
/** long enough for a reservation that would be granted (seconds in the other lab tests) */
const RESERVATION_WAIT_MS = 15_000

describe('NAT lab: a relay that denies untrusted peers', { skip: missing === false ? undefined : missing }, () => {
  let mesh: MeshLab
  let reservations = new Map<string, number | null>()

  before(async () => {
    mesh = await MeshLab.create({
      sites: [{ name: RELAY, kind: 'public' }, { name: 'sym1', kind: 'symmetric' }, { name: 'sym2', kind: 'symmetric' }, { name: 'sym3', kind: 'symmetric' }],
      relays: [RELAY],
      nodes: ['sym1', 'sym2', 'sym3'],
      relayTrusts: ['sym1', 'sym2'],
      relayEnv: { AGENTMESH_RELAY_UNTRUSTED: 'deny' }
    })
    reservations = await mesh.waitForRelays(['sym1', 'sym2', 'sym3'], 1, RESERVATION_WAIT_MS)
  })

  after(async () => {
    await mesh?.destroy()
  })

  it('reserves slots for the trusted peers only', async () => {
    await mesh.withLogs(['sym1', 'sym2', 'sym3', RELAY], () => {
      assert.notEqual(reservations.get('sym1'), null, 'sym1 (trusted by the relay) holds a reservation')
      assert.notEqual(reservations.get('sym2'), null, 'sym2 (trusted by the relay) holds a reservation')
      assert.equal(reservations.get('sym3'), null, 'sym3 (not trusted by the relay) holds none')
      assert.match(readFileSync(mesh.daemon('sym3').logFile, 'utf8'), /relay refused or failed a reservation.*PERMISSION_DENIED|PERMISSION_DENIED.*relay refused or failed a reservation/, 'sym3 logs why')
    })
  })

  it('carries the trusted peers\' tunnels, past the untrusted data limit', async () => {
    await mesh.forward('sym1', 'sym2', 9101)
    const transfer = await mesh.curl('sym1', 'sym2', 9101, 2 * MiB, { seed: 'trusted through the relay', maxTimeSeconds: 20 })
    const path = await mesh.path('sym1', 'sym2')
    await mesh.withLogs(['sym1', 'sym2', RELAY], () => {
      assert.ok(transfer.ok, `2 MiB sym1 -> sym2: curl exit ${transfer.exit}, ${transfer.bytes} bytes: ${transfer.stderr}`)
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
