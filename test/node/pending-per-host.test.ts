/**
 * A trickle of silent connections cannot lock out new peers (issue 18, item 4): one
 * host (127.0.0.2 here) keeps 70 connections open to a daemon without ever starting
 * the handshake, re-opening each one the daemon closes; a peer from another host
 * (127.0.0.1) still connects and pings at once, and each silent connection is closed
 * after the short handshake timeout. Real daemons, raw TCP sockets.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { cliJson, TestDaemon } from '../helpers/daemon.ts'
import type { Socket } from 'node:net'

const SILENT = 70
const ATTACKER = '127.0.0.2'
const HANDSHAKE_SECONDS = 4

describe('pending handshakes are capped per host', () => {
  let a: TestDaemon
  let address: string
  let port: number
  const sockets = new Set<Socket>()
  let flooding = true
  let opened = 0

  /** One silent connection from the attacker's address, re-opened (after a pause) when the daemon closes it. */
  function silent (): void {
    if (!flooding) return
    opened++
    const socket = connect({ host: '127.0.0.1', port, localAddress: ATTACKER })
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => {
      sockets.delete(socket)
      setTimeout(silent, 100)
    })
  }

  before(async () => {
    a = await TestDaemon.start()
    address = (await a.id()).addresses.find(entry => entry.startsWith('/ip4/127.0.0.1/'))!
    port = Number(/\/tcp\/(\d+)\//.exec(address)![1])
    for (let i = 0; i < SILENT; i++) silent()
    // the silent connections take their slots
    await sleep(1000)
  })

  after(async () => {
    flooding = false
    for (const socket of sockets) socket.destroy()
    await a?.destroy()
  })

  it('a peer from another host connects and pings while one host floods silent connections', async () => {
    const b = await TestDaemon.start()
    try {
      const started = Date.now()
      const summary = await cliJson(b.dataDir, ['ping', address, '--count', '1'])
      assert.equal(summary.received, 1, 'the ping was answered')
      assert.ok(Date.now() - started < 8_000, `within ${Date.now() - started} ms`)
    } finally {
      await b.destroy()
    }
  })

  it(`a silent connection is closed after the ${HANDSHAKE_SECONDS} s handshake timeout`, async () => {
    assert.ok(opened > SILENT, `the flood went on (${opened} connections opened)`)
    flooding = false
    for (const socket of sockets) socket.destroy()
    await sleep(500)
    const started = Date.now()
    const socket = connect({ host: '127.0.0.1', port })
    socket.on('error', () => {})
    await new Promise(resolve => socket.once('close', resolve))
    const ms = Date.now() - started
    assert.ok(ms >= HANDSHAKE_SECONDS * 1000 - 500 && ms < HANDSHAKE_SECONDS * 1000 + 2_000, `closed after ${ms} ms`)
    assert.equal(a.process.exitCode, null)
  })
})
