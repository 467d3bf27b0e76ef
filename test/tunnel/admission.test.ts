/**
 * Tunnel admission (issue 18, item 2; src/daemon/tunnel-admission.ts): one peer cannot
 * take every slot. Unit tests of the counting, the defaults of the configuration, and
 * the memory budget's say over new tunnels (real yamux streams over an in-memory
 * connection).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddrConnectionPair } from '@libp2p/utils'
import defaults from '../../config/default.json' with { type: 'json' }
import { lightPeerTunnels, TunnelAdmission } from '../../src/daemon/tunnel-admission.ts'
import { REFUSE_AT, TunnelMemoryBudget } from '../../src/daemon/tunnel-memory-budget.ts'
import { waitFor } from '../helpers/daemon.ts'
import type { PeerId, Stream } from '@libp2p/interface'

const KiB = 1024

async function peer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function fill (admission: TunnelAdmission, who: PeerId, attempts: number): Array<{ release(): void }> {
  const held = []
  for (let i = 0; i < attempts; i++) {
    const slot = admission.admit(who)
    if (slot != null) held.push(slot)
  }
  return held
}

describe('tunnel admission', () => {
  it('by default one peer may hold at most a quarter of the slots, and reserves a share for others', () => {
    const { maxPerPeer, maxTotal, reservedForOthers } = defaults.tunnels
    assert.ok(maxPerPeer <= maxTotal / 4, `maxPerPeer ${maxPerPeer} is well below maxTotal ${maxTotal}`)
    assert.ok(reservedForOthers > 0 && reservedForOthers < maxTotal)
  })

  it('with the defaults, busy peers fill the pool up to the reserve, and a new peer still gets tunnels', async () => {
    const admission = new TunnelAdmission({}, defaults.tunnels)
    const busy = await Promise.all(Array.from({ length: 4 }, peer))
    for (const who of busy) fill(admission, who, defaults.tunnels.maxPerPeer + 10)
    assert.equal(admission.count(busy[0]), defaults.tunnels.maxPerPeer, 'the first busy peer stops at maxPerPeer')
    assert.equal(admission.count(), defaults.tunnels.maxTotal - defaults.tunnels.reservedForOthers, 'busy peers stop at the reserve')
    const newcomer = await peer()
    assert.equal(fill(admission, newcomer, 1000).length, lightPeerTunnels(defaults.tunnels.reservedForOthers), 'a new peer gets its share of the reserve')
  })

  it('a released slot is free again, once', async () => {
    const admission = new TunnelAdmission({}, { maxPerPeer: 2, maxTotal: 10, reservedForOthers: 0 })
    const who = await peer()
    const [first] = fill(admission, who, 5)
    assert.equal(admission.count(who), 2)
    first!.release()
    first!.release()
    assert.equal(admission.count(who), 1)
    assert.equal(admission.count(), 1)
    assert.notEqual(admission.admit(who), undefined)
    assert.equal(admission.admit(who), undefined)
  })

  it('holds back at most half the slots when maxTotal is lowered below the reserve', async () => {
    const admission = new TunnelAdmission({}, { maxPerPeer: 100, maxTotal: 100, reservedForOthers: 512 })
    const busy = await peer()
    assert.equal(fill(admission, busy, 200).length, 50, 'a busy peer gets the half that is not held back')
  })

  it('refuses every tunnel past maxTotal, and gives the slot back on release', async () => {
    const admission = new TunnelAdmission({}, { maxPerPeer: 2, maxTotal: 4, reservedForOthers: 0 })
    const [a, b, c] = await Promise.all([peer(), peer(), peer()])
    const held = [...fill(admission, a, 3), ...fill(admission, b, 3)]
    assert.equal(held.length, 4)
    assert.equal(admission.admit(c), undefined, 'a third peer finds no slot')
    held[0]?.release()
    assert.equal(admission.count(a), 1)
    assert.notEqual(admission.admit(c), undefined, 'the released slot goes to the next tunnel')
  })

  it('refuses a tunnel while the memory budget is nearly spent, and the refusal takes no slot', async () => {
    const budgetBytes = 64 * KiB
    const memory = new TunnelMemoryBudget({ maxTotalBytes: budgetBytes, maxPerPeerBytes: budgetBytes, windowBytes: 256 * KiB, minWindowBytes: 256 * KiB, intervalMs: 10 })
    const admission = new TunnelAdmission({ memory }, { maxPerPeer: 8, maxTotal: 8, reservedForOthers: 0 })
    const [outbound, inbound] = multiaddrConnectionPair()
    const sender = yamux({ enableKeepAlive: false })().createStreamMuxer(outbound)
    const receiver = yamux({ enableKeepAlive: false })().createStreamMuxer(inbound)
    const accepted: Stream[] = []
    receiver.addEventListener('stream', ({ detail }) => { detail.pause(); accepted.push(detail) })
    try {
      const [a, b] = await Promise.all([peer(), peer()])
      const tunnel = await sender.createStream()
      // between REFUSE_AT and the budget: refused from, but not yet reset
      tunnel.send(new Uint8Array(Math.ceil(budgetBytes * (REFUSE_AT + 1) / 2)))
      await waitFor('the tunnel to reach the receiver', async () => accepted.length === 1, 5_000, 10)
      const slot = admission.admit(a, accepted[0])
      assert.notEqual(slot, undefined)
      await waitFor('the budget to count the unread bytes', async () => memory.usage().bufferedBytes >= budgetBytes * REFUSE_AT, 5_000, 10)
      const second = await sender.createStream()
      second.send(new Uint8Array(1))
      await waitFor('the second tunnel to reach the receiver', async () => accepted.length === 2, 5_000, 10)
      assert.equal(admission.admit(b, accepted[1]), undefined, 'OVERLOADED: the budget is nearly spent')
      assert.deepEqual([admission.count(), admission.count(b)], [1, 0], 'the refused tunnel holds no slot')
      assert.equal(memory.usage().resets, 0)
      slot?.release()
      assert.equal(admission.count(), 0)
    } finally {
      memory.stop()
      sender.abort(new Error('test over'))
      receiver.abort(new Error('test over'))
    }
  })
})
