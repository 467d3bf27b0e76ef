/**
 * What a tunnel's counters tell the metrics: every tunnel ends exactly once, `ok` or its
 * failure kind, even when the opener reports a cut after the tunnel closed; the first
 * byte back is timed once.
 */

import assert from 'node:assert/strict'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { Status } from '../../protocols/envelope/index.ts'
import { TunnelStats } from '../../src/metrics/tunnel-stats.ts'
import type { TunnelLabels, TunnelObserver } from '../../src/metrics/tunnel-stats.ts'

function recorder (): TunnelObserver & { calls: string[] } {
  const calls: string[] = []
  const note = (what: string) => (labels: TunnelLabels, value?: unknown): void => { calls.push(`${what} ${labels.service}/${labels.direction}${value == null ? '' : ` ${typeof value === 'number' && what === 'firstByte' ? 'timed' : String(value)}`}`) }
  return { calls, opened: note('opened'), closed: note('closed'), ended: note('ended'), bytesIn: note('in'), bytesOut: note('out'), firstByte: note('firstByte') }
}

describe('tunnel counters', () => {
  it('an inbound tunnel: opened, bytes, closed, ended ok; a refusal ends with its status name', () => {
    const observer = recorder()
    const stats = new TunnelStats({ service: 'web', direction: 'inbound' }, observer)
    stats.opened()
    stats.bytesIn(10)
    stats.bytesOut(20)
    stats.closed()
    stats.failed(Status.OVERLOADED)
    assert.deepEqual(observer.calls, ['opened web/inbound', 'in web/inbound 10', 'out web/inbound 20', 'closed web/inbound', 'ended web/inbound ok', 'ended web/inbound overloaded'])
    assert.deepEqual(stats.snapshot(), { active: 0, connections: 1, bytesIn: 10, bytesOut: 20, failures: { overloaded: 1 } })
  })

  it('an outbound tunnel cut after it opened ends as reset, not ok; one that closes cleanly ends ok a turn later', async () => {
    const observer = recorder()
    const stats = new TunnelStats({ service: 'db', direction: 'outbound' }, observer)
    const cut = stats.tunnel()
    cut.opened()
    cut.bytesIn(5)
    cut.bytesIn(5)
    cut.closed()
    cut.failed('reset')
    const clean = stats.tunnel()
    clean.opened()
    clean.closed()
    await nextTurn()
    assert.deepEqual(observer.calls, [
      'opened db/outbound', 'firstByte db/outbound timed', 'in db/outbound 5', 'in db/outbound 5', 'closed db/outbound', 'ended db/outbound reset',
      'opened db/outbound', 'closed db/outbound', 'ended db/outbound ok'
    ])
    assert.deepEqual(stats.snapshot(), { active: 0, connections: 2, bytesIn: 10, bytesOut: 0, failures: { reset: 1 } })
  })
})
