/**
 * Tunnel admission (issue 18, item 2): one peer cannot take every slot. Unit tests of
 * the counting, and the defaults of the configuration.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import defaults from '../../config/default.json' with { type: 'json' }
import { lightPeerTunnels, TunnelAdmission } from '../../src/daemon/tunnel-admission.ts'
import type { PeerId } from '@libp2p/interface'

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
})
