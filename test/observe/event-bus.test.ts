/**
 * The event bus and the webhook, in one process: events keep their order and numbers, a
 * listener that throws harms nobody, a slow stream is bounded and told what it lost, and
 * the webhook retries, gives up, and drops the oldest of a full queue without ever
 * making `emit` wait. The metrics text fixer is checked here too.
 */

import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { describe, it } from 'node:test'
import { EventBus, WebhookSink } from '../../src/events/index.ts'
import { RECENT_EVENTS, SUBSCRIBER_QUEUE } from '../../src/events/constants.ts'
import { conventionalNames } from '../../src/metrics/exposition.ts'
import { waitFor } from '../helpers/daemon.ts'
import type { MeshEvent } from '../../src/events/index.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'

const quiet = { warn: () => {} }

describe('event bus', () => {
  it('numbers events in order, with an ISO time, and keeps the recent ones', () => {
    const bus = new EventBus({ log: quiet })
    const heard: MeshEvent[] = []
    bus.subscribe(event => { heard.push(event) })
    bus.emit('peer.connected', { peer: 'p1', connection: 'relayed', transport: 'relay' })
    bus.emit('path.changed', { peer: 'p1', from: { connection: 'relayed', transport: 'relay' }, to: { connection: 'direct', transport: 'tcp' } })
    assert.deepEqual(heard.map(event => [event.seq, event.type]), [[1, 'peer.connected'], [2, 'path.changed']])
    assert.ok(!Number.isNaN(Date.parse(heard[0]!.time)))
    assert.deepEqual(heard[1], { ...heard[1], peer: 'p1', to: { connection: 'direct', transport: 'tcp' } })
    assert.deepEqual(bus.recent(1).map(event => event.seq), [2])
    for (let i = 0; i < RECENT_EVENTS + 10; i++) bus.emit('reservation.gained', { relay: `r${i}` })
    assert.equal(bus.recent().length, RECENT_EVENTS)
  })

  it('a listener that throws is logged; the others and the emitter go on', () => {
    const warnings: string[] = []
    const bus = new EventBus({ log: { warn: (_context, message) => { warnings.push(message) } } })
    let heard = 0
    bus.subscribe(() => { throw new Error('boom') })
    bus.subscribe(() => { heard++ })
    bus.emit('peer.disconnected', { peer: 'p1' })
    assert.equal(heard, 1)
    assert.deepEqual(warnings, ['an event listener failed'])
  })

  it('a stream replays from `since`, then follows live, and ends when aborted', async () => {
    const bus = new EventBus({ log: quiet })
    bus.emit('reservation.gained', { relay: 'r1' })
    bus.emit('reservation.lost', { relay: 'r1' })
    const controller = new AbortController()
    const seen: number[] = []
    const reading = (async () => {
      for await (const event of bus.stream(controller.signal, 1)) seen.push(event.seq)
    })()
    await new Promise(resolve => setImmediate(resolve))
    bus.emit('peer.disconnected', { peer: 'p' })
    await waitFor('the live event', async () => seen.length === 2, 2_000, 5)
    controller.abort()
    await reading
    assert.deepEqual(seen, [2, 3])
  })

  it('a stream that falls behind keeps the newest SUBSCRIBER_QUEUE events and is told how many it lost', async () => {
    const bus = new EventBus({ log: quiet })
    const controller = new AbortController()
    const stream = bus.stream(controller.signal)
    const first = stream.next()
    for (let i = 0; i < SUBSCRIBER_QUEUE + 25; i++) bus.emit('peer.disconnected', { peer: `p${i}` })
    const dropped = (await first).value as MeshEvent
    assert.deepEqual({ seq: dropped.seq, type: dropped.type, count: (dropped as any).count }, { seq: 25, type: 'events.dropped', count: 25 }, 'in the place of the 25 oldest')
    assert.equal(((await stream.next()).value as MeshEvent).seq, 26)
    controller.abort()
    await stream.return(undefined)
  })
})

describe('webhook', () => {
  async function receiver (answer: (req: IncomingMessage, res: ServerResponse, body: any) => void): Promise<{ url: string, close(): Promise<void> }> {
    const server = createServer((req, res) => {
      let text = ''
      req.on('data', chunk => { text += chunk })
      req.on('end', () => { answer(req, res, JSON.parse(text)) })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
      close: async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) }
    }
  }

  it('posts every event in order, retrying 5xx answers, and gives up after its retries', async () => {
    const got: Array<{ seq: number, type: string }> = []
    let failuresLeft = 2
    const hook = await receiver((req, res, body) => {
      assert.equal(req.headers['content-type'], 'application/json')
      if (body.peer === 'never') return res.writeHead(503).end()
      if (body.seq === 2 && failuresLeft-- > 0) return res.writeHead(500).end()
      got.push({ seq: body.seq, type: body.type })
      res.writeHead(204).end()
    })
    const bus = new EventBus({ log: quiet })
    const outcomes: string[] = []
    const warnings: string[] = []
    const sink = new WebhookSink({ bus, log: { warn: (_c, message) => { warnings.push(message) } }, outcome: outcome => { outcomes.push(outcome) } }, { url: hook.url, retries: 2, retryFirstMs: 10 })
    sink.start()
    bus.emit('peer.connected', { peer: 'a', connection: 'direct', transport: 'tcp' })
    bus.emit('peer.disconnected', { peer: 'a' })
    bus.emit('peer.disconnected', { peer: 'never' })
    bus.emit('trust.changed', { peer: 'b', change: 'removed' })
    await waitFor('the webhook to finish', async () => outcomes.length === 4, 5_000, 10)
    await sink.stop()
    await hook.close()
    assert.deepEqual(got, [{ seq: 1, type: 'peer.connected' }, { seq: 2, type: 'peer.disconnected' }, { seq: 4, type: 'trust.changed' }])
    assert.deepEqual(outcomes, ['delivered', 'delivered', 'failed', 'delivered'])
    assert.match(warnings[0] ?? '', /given up after 3 attempts: HTTP 503/)
  })

  it('never makes emit wait: a receiver that does not answer costs a bounded queue, oldest dropped', async () => {
    const held: ServerResponse[] = []
    const hook = await receiver((_req, res) => { held.push(res) })
    const bus = new EventBus({ log: quiet })
    const outcomes: string[] = []
    const sink = new WebhookSink({ bus, log: quiet, outcome: outcome => { outcomes.push(outcome) } }, { url: hook.url, retries: 0, queue: 10 })
    sink.start()
    const started = performance.now()
    for (let i = 0; i < 1000; i++) bus.emit('peer.disconnected', { peer: `p${i}` })
    const ms = performance.now() - started
    assert.equal(outcomes.filter(outcome => outcome === 'dropped').length, 1000 - 1 - 10, 'one in flight, ten queued, the rest dropped')
    assert.ok(ms < 500, `1000 emits took ${ms} ms`)
    await sink.stop()
    for (const res of held) res.destroy()
    await hook.close()
  })
})

describe('metrics text', () => {
  it('renames gauges that break Prometheus naming, and scales milliseconds to seconds', () => {
    const text = [
      '# HELP x_total x_total', '# TYPE x_total gauge', 'x_total{a="1"} 3',
      '# HELP b_bucket_total b', '# TYPE b_bucket_total gauge', 'b_bucket_total 2',
      '# HELP h_total by type', '# TYPE h_total gauge', 'h_total 5',
      '# HELP h by type', '# TYPE h gauge', 'h{type="x"} 5',
      '# HELP t_milliseconds t', '# TYPE t_milliseconds gauge', 't_milliseconds{key="p"} 1500', 't_milliseconds{key="q"} NaN',
      '# HELP c_total c', '# TYPE c_total counter', 'c_total 7', ''
    ].join('\n')
    assert.equal(conventionalNames(text), [
      '# HELP x x_total', '# TYPE x gauge', 'x{a="1"} 3',
      '# HELP b_buckets b', '# TYPE b_buckets gauge', 'b_buckets 2',
      '# HELP h by type', '# TYPE h gauge', 'h{type="x"} 5',
      '# HELP t_seconds t', '# TYPE t_seconds gauge', 't_seconds{key="p"} 1.5', 't_seconds{key="q"} NaN',
      '# HELP c_total c', '# TYPE c_total counter', 'c_total 7', ''
    ].join('\n'))
  })
})
