/**
 * Bad member records in a live DHT: a revoked member's record (which DHT servers keep,
 * since they cannot know the revocation) is ignored by the members that resolve its
 * name, and logged once however often they ask; forged, expired and oversized records
 * that a hostile node tries to store are refused by the DHT servers, so a lookup still
 * finds the member's own record.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { signedData } from '../../protocols/membership/signing.ts'
import { MEMBER_RECORD_DOMAIN, memberRecordKey } from '../../protocols/records/index.ts'
import { cliJson, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { enrol } from '../helpers/membership.ts'
import { startInProcessNode } from '../helpers/mesh-node.ts'
import { agentmesh } from '../helpers/services/mesh.ts'
import type { InProcessNode } from '../helpers/mesh-node.ts'
import type { NetworkView, ResolvedMember } from '../../src/control/api.ts'

describe('bad member records in the DHT', () => {
  let admin: TestDaemon, alice: TestDaemon, bob: TestDaemon, mallory: TestDaemon
  let hostile: InProcessNode

  const published = (daemon: TestDaemon): boolean => daemon.stderr.includes('member record published')

  before(async () => {
    admin = await TestDaemon.start()
    const bootstrap = (await admin.id()).addresses
    ;[alice, bob, mallory] = await Promise.all([0, 1, 2].map(async () => TestDaemon.start({ bootstrap })))
    await agentmesh(admin, ['network', 'init', 'fleet'])
    await enrol(admin, alice, 'alice')
    await enrol(admin, bob, 'bob')
    await enrol(admin, mallory, 'mallory')
    await waitFor('bob and mallory to publish their records', async () => (published(bob) && published(mallory)) || undefined, 20_000, 200)
  })

  after(async () => {
    await hostile?.stop()
    await Promise.all([admin, alice, bob, mallory].map(async daemon => daemon?.destroy()))
  })

  it('ignores a revoked member\'s record, and logs it once however often it is asked', async () => {
    await agentmesh(admin, ['revoke', 'mallory'])
    await waitFor('alice to hold the revocation', async () =>
      (await cliJson<NetworkView[]>(alice.dataDir, ['network', 'ls']))[0]?.revocationsVersion === 1 || undefined, 10_000, 200)
    for (let i = 0; i < 3; i++) {
      const answer = await agentmesh(alice, ['resolve', 'mallory']).then(() => 'found', (err: Error) => err.message)
      assert.match(answer, /no member named "mallory"/)
    }
    const lines = alice.stderr.split('\n').filter(line => line.includes('member record ignored') && line.includes('RevokedError'))
    assert.equal(lines.length, 1, `one log line for the revoked record, not one per lookup:\n${lines.join('\n')}`)
  })

  it('keeps records that fail the DHT servers\' checks out: a lookup still finds the member\'s own', async () => {
    hostile = await startInProcessNode(() => false)
    const adminAddress = (await admin.id()).addresses.find(address => address.startsWith('/ip4/127.0.0.1/tcp/') && !address.includes('p2p-circuit')) as string
    // the daemons all dial from 127.0.0.1 too: a moment may find this host's pending-upgrade slots taken
    await waitFor('the hostile node to connect to the admin', async () => hostile.node.dial(multiaddr(adminAddress)), 10_000, 500)
    // the key of bob's record: the network key `network ls` shows any member, and bob's name
    const { networkKey } = (await cliJson<NetworkView[]>(alice.dataDir, ['network', 'ls']))[0] as NetworkView
    const key = memberRecordKey(uint8ArrayFromString(networkKey, 'base16'), 'bob')
    // bob's record signed again by another key (forged), bob's record with a flipped byte, and one far over the cap
    const bobRecord = await readRecord(bob, key)
    const body = bobRecord.subarray(0, bobRecord.length - 2 - 64)
    const otherKey = await generateKeyPair('Ed25519')
    const forged = Uint8Array.from([...body, 0, 64, ...await otherKey.sign(signedData(MEMBER_RECORD_DOMAIN, body))])
    const tampered = Uint8Array.from(bobRecord)
    tampered[tampered.length - 1] ^= 0xff
    const oversized = new Uint8Array(8192)
    for (const value of [forged, tampered, oversized]) {
      const refused = await (async () => {
        try {
          for await (const _event of hostile.node.services.dht.put(key, value, { signal: AbortSignal.timeout(10_000) })) {}
          return false
        } catch {
          return true
        }
      })()
      process.stdout.write(`# a bad record of ${value.length} bytes: ${refused ? 'refused by the DHT' : 'put returned (servers validate what they store)'}\n`)
    }
    const found = await cliJson<ResolvedMember>(alice.dataDir, ['resolve', 'bob'])
    assert.equal(found.peerId, (await bob.id()).peerId, 'alice finds bob\'s own record')
  })

  /** The record bob published, as a DHT server holds it. */
  async function readRecord (daemon: TestDaemon, key: Uint8Array): Promise<Uint8Array> {
    for await (const event of hostile.node.services.dht.get(key, { signal: AbortSignal.timeout(10_000) })) {
      if (event.name === 'VALUE') return event.value
    }
    throw new Error(`no record for ${daemon.dataDir}`)
  }
})
