/**
 * A revocation list lives in the DHT too: a member that was offline while a member was
 * revoked, and that comes back when no member that holds the list is online (the admin
 * is gone), gets it from the DHT through a node that is no member at all, within 10 s
 * of coming back, and refuses the revoked peer.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cliJson, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { agentmesh } from '../helpers/services/mesh.ts'
import type { NetworkView, PeerView, RevokedView } from '../../src/control/api.ts'

/** issue 12: a member that was offline gets the list within 10 s of coming back */
const RETURN_DEADLINE_MS = 10_000

describe('revocation lists in the DHT', () => {
  let boot: TestDaemon
  let admin: TestDaemon
  let m1: TestDaemon
  let m2: TestDaemon
  let m1Id: string

  before(async () => {
    // a plain node the others bootstrap from: a DHT server and nothing else
    boot = await TestDaemon.start()
    const bootAddresses = (await boot.id()).addresses
    admin = await TestDaemon.start({ bootstrap: bootAddresses })
    m1 = await TestDaemon.start({ bootstrap: bootAddresses })
    m2 = await TestDaemon.start({ bootstrap: bootAddresses })
    m1Id = (await m1.id()).peerId
    await agentmesh(admin, ['network', 'init', 'fleet'])
    for (const [name, daemon] of [['m1', m1], ['m2', m2]] as const) {
      const token = (await agentmesh(admin, ['invite', (await daemon.id()).peerId, '--name', name])).trim()
      await agentmesh(daemon, ['join', token])
    }
  })

  after(async () => {
    await Promise.all([boot, admin, m1, m2].map(async daemon => daemon?.destroy()))
  })

  it('reaches a member that comes back while no member holding the list is online', async () => {
    await m2.stop()
    const revoked = await cliJson<RevokedView>(admin.dataDir, ['revoke', 'm1'])
    // the admin stores the list in the DHT (boot and m1 are its DHT peers), then goes away
    await waitFor('the admin to store the list in the DHT', async () => admin.stderr.includes('revocation list stored in the DHT'), 15_000)
    await admin.stop()

    m2 = await TestDaemon.start({ dataDir: m2.dataDir, bootstrap: (await boot.id()).addresses })
    const back = Date.now()
    await waitFor('m2 to hold the new list', async () =>
      (await cliJson<NetworkView[]>(m2.dataDir, ['network', 'ls']))[0]?.revocationsVersion === revoked.version, RETURN_DEADLINE_MS, 250)
    process.stdout.write(`# revocation list from the DHT ${Date.now() - back} ms after m2's control API answered\n`)
    assert.match(m2.stderr, /newer revocation list from the DHT/)
    const m1View = (await cliJson<PeerView[]>(m2.dataDir, ['peers'])).find(peer => peer.peerId === m1Id)
    assert.equal(m1View?.trusted ?? false, false, 'm2 does not trust the revoked m1')
  })
})
