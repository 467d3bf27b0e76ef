/**
 * `agentmesh events` and the webhook, with real daemons: a relay R; B, which joins
 * through R as a DHT client and so holds a reservation on it; and C, which knows no one
 * (and so no direct address of B) and POSTs its events to a webhook. C reaches B through
 * R first, then directly; a forward to a service B does not expose fails; B stops. C's
 * stream and the webhook see it all in order; B's stream sees its reservation and the
 * tunnel it refused; R's metrics count the circuit; C's reservation is lost when R stops.
 */

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cli, freePort, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { followEvents, startWebhookReceiver } from '../helpers/services/events.ts'
import { agentmesh, forward, trust } from '../helpers/services/mesh.ts'
import { watchEnding } from '../helpers/services/tcp.ts'
import type { EventFollower, MeshEventLine, WebhookReceiver } from '../helpers/services/events.ts'

/** C finds no one on its own: it meets B only through the addresses the test gives it. */
const NO_WALKS = { AGENTMESH_DISCOVERY_WALK_INTERVAL_SECONDS: '3600' }

describe('events: agentmesh events and the webhook', () => {
  const daemons: TestDaemon[] = []
  let r: TestDaemon, b: TestDaemon, c: TestDaemon
  let rId: string, bId: string, cId: string
  let rAddress: string, bAddress: string, rMetrics: string
  let hook: WebhookReceiver
  let cEvents: EventFollower
  let bEvents: EventFollower
  const followers: EventFollower[] = []

  before(async () => {
    hook = await startWebhookReceiver()
    rMetrics = `127.0.0.1:${await freePort()}`
    r = await TestDaemon.start({ args: ['--relay', '--metrics', rMetrics] })
    daemons.push(r)
    const rIdentity = await r.id()
    rId = rIdentity.peerId
    rAddress = rIdentity.addresses[0] as string
    b = await TestDaemon.start({ bootstrap: [rAddress], args: ['--dht-mode', 'client'], env: NO_WALKS })
    daemons.push(b)
    const bIdentity = await b.id()
    bId = bIdentity.peerId
    bAddress = bIdentity.addresses.find(address => !address.includes('p2p-circuit')) as string
    c = await TestDaemon.start({ args: ['--webhook', hook.url], env: NO_WALKS })
    daemons.push(c)
    cId = (await c.id()).peerId
    cEvents = followEvents(c)
    followers.push(cEvents)
    // the relay carries B and C without limits once it trusts them
    await trust(r, bId)
    await trust(r, cId)
    await trust(b, cId, 'c')
    await trust(c, bId, 'b')
  })

  /**
   * `agentmesh ping` from C, again until one is answered: libp2p allows one ping stream
   * per connection, and its connection monitor may be pinging the new connection too.
   */
  async function pingUntilAnswered (target: string): Promise<void> {
    let last = ''
    await waitFor(`C's ping to ${target} to be answered`, async () => {
      const result = await cli(['ping', target, '--count', '1', '--data-dir', c.dataDir])
      last = result.stdout + result.stderr
      return result.code === 0
    }, 15_000, 300).catch((err: Error) => { throw new Error(`${err.message}; last: ${last}`) })
  }

  after(async () => {
    await Promise.all(followers.map(async follower => follower.stop()))
    await Promise.all([...daemons.map(async daemon => daemon.destroy()), hook?.close()])
  })

  it('B\'s stream reports the reservation it holds on R', async () => {
    bEvents = followEvents(b)
    followers.push(bEvents)
    const gained = await bEvents.waitFor('reservation.gained', event => event.type === 'reservation.gained')
    assert.equal(gained.relay, rId)
  })

  it('C sees B connect through the relay, then the path go direct, a tunnel fail, and B leave, in that order', async t => {
    await waitFor('B to advertise its relayed address', async () => (await b.id()).addresses.some(address => address.includes('/p2p-circuit')))
    await pingUntilAnswered(`${rAddress}/p2p-circuit/p2p/${bId}`)
    const connected = await cEvents.waitFor('peer.connected B', event => event.type === 'peer.connected' && event.peer === bId)
    assert.deepEqual({ connection: connected.connection, transport: connected.transport }, { connection: 'relayed', transport: 'relay' })
    await pingUntilAnswered(bAddress)
    const changed = await cEvents.waitFor('path.changed B to direct', event => event.type === 'path.changed' && event.peer === bId && (event.to as any).connection === 'direct')
    assert.equal((changed.from as any).connection, 'relayed')

    const fwd = await forward(c, bId, 'nosuch')
    const ending = await watchEnding(fwd.port, Buffer.from('hello'), 10_000)
    assert.equal(ending.bytes, 0)
    const failed = await cEvents.waitFor('tunnel.failed', event => event.type === 'tunnel.failed')
    assert.deepEqual({ peer: failed.peer, service: failed.service, kind: failed.kind, listen: failed.listen }, { peer: bId, service: 'nosuch', kind: 'unknown_service', listen: fwd.listen })
    assert.match(failed.reason as string, /no service "nosuch"/)
    const refused = await bEvents.waitFor('B\'s tunnel.refused', event => event.type === 'tunnel.refused')
    assert.deepEqual({ peer: refused.peer, service: refused.service, kind: refused.kind }, { peer: cId, service: 'nosuch', kind: 'unknown_service' })

    await b.stop()
    const left = await cEvents.waitFor('peer.disconnected B', event => event.type === 'peer.disconnected' && event.peer === bId)

    const trusted = cEvents.events.find(event => event.type === 'trust.changed' && event.peer === bId)
    assert.deepEqual({ change: trusted?.change, name: trusted?.name }, { change: 'added', name: 'b' })
    const order = [trusted, connected, changed, failed, left].map(event => event!.seq)
    assert.deepEqual(order, [...order].sort((x, y) => x - y), `in order: ${order.join(', ')}`)
    const seqs = cEvents.events.map(event => event.seq)
    assert.deepEqual(seqs, seqs.map((_seq, index) => index + 1), 'the stream from --since 0 has every event, numbered from 1')
    t.diagnostic(cEvents.events.map(event => `${event.seq} ${event.type}${event.peer === bId ? ' B' : event.peer === rId ? ' R' : ''}`).join('; '))

    const last = cEvents.events.at(-1) as MeshEventLine
    const delivered = await waitFor('the webhook to receive the same events', async () => hook.received.length >= last.seq ? hook.received : undefined)
    assert.deepEqual(delivered.slice(0, last.seq), cEvents.events.slice(0, last.seq), 'the webhook got the same events, in the same order')
  })

  it('the relay\'s metrics count the reservations it holds and the circuit it set up', async () => {
    const text = await (await fetch(`http://${rMetrics}/metrics`)).text()
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
    assert.ok(value('agentmesh_relay_circuits_total') >= 1, 'C reached B through R at least once')
    assert.ok(value('agentmesh_relay_reservations_served') >= 1, 'C at least still holds one')
    assert.ok(Number.isInteger(value('agentmesh_relay_circuits_active')), 'the gauge of circuits carried now is there')
  })

  it('C sees its reservation on R gained, then lost when R stops', async () => {
    await cEvents.waitFor('C\'s reservation.gained', event => event.type === 'reservation.gained' && event.relay === rId)
    await r.stop()
    const lost = await cEvents.waitFor('C\'s reservation.lost', event => event.type === 'reservation.lost' && event.relay === rId)
    assert.ok(lost.seq > (cEvents.events.find(event => event.type === 'reservation.gained')?.seq ?? Infinity))
  })

  it('without --json, one readable line per event; a bad --since is a usage error', async () => {
    const readable = followEvents(c, ['--since', '0'])
    followers.push(readable)
    await waitFor('a trust.changed line', async () => readable.lines.find(line => line.includes(' trust.changed ')))
    assert.match(readable.lines.find(line => line.includes(' trust.changed ') && line.includes(bId)) ?? '', /^\d\d:\d\d:\d\d\.\d{3} trust\.changed peer=12D3KooW\w+ change=added name=b groups=$/)
    const bad = await agentmesh(c, ['events', '--since', 'soon']).then(() => 'exited 0', (err: Error) => err.message)
    assert.match(bad, /exited 2: agentmesh events: --since must be a whole number/)
  })
})
