/**
 * Membership is visible: `agentmesh events` reports a network created, a member verified
 * (once, however many hellos), a newer revocation list and the revoked member cut off;
 * the metrics count handshakes by outcome.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { freePort, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { followEvents } from '../helpers/services/events.ts'
import { agentmesh } from '../helpers/services/mesh.ts'
import type { EventFollower } from '../helpers/services/events.ts'

describe('membership in events and metrics', () => {
  let admin: TestDaemon
  let bob: TestDaemon
  let bobId: string
  let metrics: string
  let follower: EventFollower

  before(async () => {
    metrics = `127.0.0.1:${await freePort()}`
    admin = await TestDaemon.start({ args: ['--metrics', metrics] })
    bob = await TestDaemon.start({ bootstrap: (await admin.id()).addresses })
    bobId = (await bob.id()).peerId
    follower = followEvents(admin)
  })

  after(async () => {
    await follower?.stop()
    await Promise.all([admin?.destroy(), bob?.destroy()])
  })

  it('reports the network, the member verified once, the revocation and the member cut off, in that order', async () => {
    await agentmesh(admin, ['network', 'init', 'fleet'])
    await agentmesh(bob, ['join', (await agentmesh(admin, ['invite', bobId, '--name', 'bob', '--groups', 'ops'])).trim()])
    const verified = await follower.waitFor('member.verified', event => event.type === 'membership.changed' && event.change === 'member.verified')
    assert.deepEqual({ network: verified.network, peer: verified.peer, name: verified.name, groups: verified.groups }, { network: 'fleet', peer: bobId, name: 'bob', groups: ['ops'] })
    await agentmesh(admin, ['revoke', 'bob'])
    await follower.waitFor('member.removed', event => event.type === 'membership.changed' && event.change === 'member.removed' && event.peer === bobId)
    const changes = follower.events.filter(event => event.type === 'membership.changed').map(event => event.change)
    assert.deepEqual(changes, ['network.created', 'member.verified', 'revocations.updated', 'member.removed'])
  })

  it('counts handshakes by outcome in the metrics', async () => {
    const verified = await waitFor('a verified handshake in the metrics', async () => {
      const text = await (await fetch(`http://${metrics}/metrics`)).text()
      return Number(/^agentmesh_membership_handshakes_total\{outcome="verified"\} (\d+)$/m.exec(text)?.[1] ?? 0) || undefined
    }, 5_000)
    assert.ok(verified >= 1)
  })
})
