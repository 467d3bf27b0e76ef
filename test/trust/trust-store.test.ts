/**
 * The allowlist (src/trust/trust-store.ts): what `trust add` accepts and refuses, names
 * and groups kept across updates, the changes its listeners hear, and `trust.json`,
 * from which a restarted daemon gets the same allowlist.
 */
import assert from 'node:assert/strict'
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TrustStore } from '../../src/trust/trust-store.ts'
import { tempDir } from '../helpers/daemon.ts'
import type { TrustChange } from '../../src/trust/trust-store.ts'
import type { PeerId } from '@libp2p/interface'

async function newPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('trust store', () => {
  let dir: string
  let alice: PeerId, bob: PeerId, carol: PeerId
  let files = 0
  const freshFile = (): string => join(dir, `trust-${files++}.json`)

  before(async () => {
    dir = await tempDir()
    ;[alice, bob, carol] = await Promise.all([newPeer(), newPeer(), newPeer()])
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('starts empty without a file, and trusts only the peers added', async () => {
    const store = await TrustStore.load(freshFile())
    assert.deepEqual(store.list(), [])
    const added = await store.add(alice.toString(), { name: 'alice', groups: ['ops'] })
    assert.deepEqual(added, { peerId: alice.toString(), name: 'alice', groups: ['ops'] })
    assert.equal(store.isTrusted(alice), true)
    assert.equal(store.isTrusted(bob), false)
    assert.deepEqual(store.get(alice.toString()), added)
    assert.equal(store.get(bob.toString()), undefined)
  })

  it('finds a peer by name or by peer id, and lists them by name, else peer id', async () => {
    const store = await TrustStore.load(freshFile())
    await store.add(carol.toString())
    await store.add(bob.toString(), { name: 'zed' })
    await store.add(alice.toString(), { name: 'alice' })
    assert.equal(store.resolve('zed')?.peerId, bob.toString())
    assert.equal(store.resolve(carol.toString())?.peerId, carol.toString())
    assert.equal(store.resolve('nobody'), undefined)
    // carol, unnamed, sorts by her peer id: "12D3KooW..." comes before any name
    assert.deepEqual(store.list().map(peer => peer.peerId), [carol, alice, bob].map(String))
  })

  it('keeps the name and groups an update leaves unset, and replaces those it sets', async () => {
    const store = await TrustStore.load(freshFile())
    await store.add(alice.toString(), { name: 'alice', groups: ['ops', 'dev'] })
    assert.deepEqual(await store.add(alice.toString()), { peerId: alice.toString(), name: 'alice', groups: ['ops', 'dev'] })
    assert.deepEqual(await store.add(alice.toString(), { groups: [] }), { peerId: alice.toString(), name: 'alice', groups: [] })
    assert.deepEqual(await store.add(alice.toString(), { name: 'al' }), { peerId: alice.toString(), name: 'al', groups: [] })
    assert.equal(store.list().length, 1)
  })

  it('refuses what is not a peer id, a bad name or group, and a name another peer holds, changing nothing', async () => {
    const store = await TrustStore.load(freshFile())
    await store.add(alice.toString(), { name: 'alice' })
    const refusals: Array<[string, { name?: string, groups?: string[] }, RegExp]> = [
      ['12D3KooWnot-a-peer-id', {}, /is not a peer id/],
      [bob.toString(), { name: 'Bob' }, /name "Bob": expected 1-63 lowercase letters, digits or dashes/],
      [bob.toString(), { name: `b${'o'.repeat(63)}` }, /expected 1-63/],
      [bob.toString(), { groups: ['ops', 'Dev Team'] }, /group "Dev Team"/],
      [bob.toString(), { name: 'alice' }, new RegExp(`the name "alice" is already given to ${alice.toString()}`)]
    ]
    for (const [peerId, options, message] of refusals) {
      await assert.rejects(store.add(peerId, options), { name: 'TrustError', message }, `${peerId} ${JSON.stringify(options)}`)
    }
    assert.deepEqual(store.list(), [{ peerId: alice.toString(), name: 'alice', groups: [] }])
  })

  it('tells its listeners of each change saved, and of nothing else', async () => {
    const store = await TrustStore.load(freshFile())
    const heard: TrustChange[] = []
    store.onChange(change => { heard.push(change) })
    await store.add(alice.toString(), { name: 'alice' })
    await store.add(alice.toString(), { groups: ['ops'] })
    await store.add('not a peer id').catch(() => {})
    assert.equal(await store.remove(bob.toString()), false, 'removing a peer that is not trusted removes nothing')
    assert.equal(await store.remove(alice.toString()), true)
    assert.deepEqual(heard, [
      { peer: alice.toString(), change: 'added', name: 'alice', groups: [] },
      { peer: alice.toString(), change: 'updated', name: 'alice', groups: ['ops'] },
      { peer: alice.toString(), change: 'removed' }
    ])
    assert.equal(store.isTrusted(alice), false)
  })

  it('saves every change to its file, readable by this user only, and loads it back', async () => {
    const file = freshFile()
    const store = await TrustStore.load(file)
    await store.add(alice.toString(), { name: 'alice', groups: ['ops'] })
    await store.add(bob.toString())
    await store.remove(bob.toString())
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), [{ peerId: alice.toString(), name: 'alice', groups: ['ops'] }])
    const reloaded = await TrustStore.load(file)
    assert.deepEqual(reloaded.list(), store.list())
    assert.equal(reloaded.isTrusted(alice), true)
  })

  it('refuses to start from a file that is not JSON, naming it', async () => {
    const file = freshFile()
    await writeFile(file, '[{"peerId": ')
    await assert.rejects(TrustStore.load(file), new RegExp(`${file} is not valid JSON .*: fix or remove it`))
  })
})
