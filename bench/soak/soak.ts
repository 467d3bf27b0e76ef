/**
 * `npm run soak [-- TUNNELS]` (not part of `npm test` nor of `npm run bench`): 10,000
 * tunnels (by default) through real daemons, in a mix of the ways TCP connections end:
 *
 * - clean: the client sends, then its FIN; the service answers with the SHA-256 of what
 *   it read, then its FIN;
 * - half-close: the same, but the service waits a while after the client's FIN before
 *   it answers, and again before its own FIN;
 * - client reset: the client sends, then resets;
 * - service reset with unread data: the client keeps sending; the service reads 32 KiB,
 *   stops reading and closes (a RST, or a FIN for the kernel to answer with RST);
 * - peer killed: clients of a third daemon keep sending; that daemon is killed (-9).
 *
 * It reports stuck tunnels (still active on either daemon, or service connections still
 * open, 30 s after the last client finished; goal 0), clients told a false clean end (a
 * FIN after an answer that is not the SHA-256 of everything they sent, or any clean end
 * where the service dropped their upload; goal 0), and the peak RSS of the exposing
 * daemon against its tunnel memory budget. Writes bench/results/soak.json.
 */

import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { machine, writeResult } from '../lib/part.ts'
import { cliJson, TestDaemon, waitFor } from '../../test/helpers/daemon.ts'
import { expose, forward, forwards, services, startTrustedPair, trust } from '../../test/helpers/services/mesh.ts'
import { RssSampler, rssBytes } from '../../test/helpers/services/rss.ts'
import { connectTcp, startTcpServer } from '../../test/helpers/services/tcp.ts'
import type { TcpService } from '../../test/helpers/services/tcp.ts'
import type { Socket } from 'node:net'

const TOTAL = Number(process.argv[2] ?? 10_000)
const CONCURRENCY = 64
const KILL_ROUNDS = 5
const CLIENT_DEADLINE_MS = 30_000
const GRACE_MS = 30_000
const BUDGET = 256 * 1024 * 1024
const DAEMON_ARGS = ['--log-level', 'error']
const DEBUG = process.env.SOAK_DEBUG != null

type Kind = 'clean' | 'half-close' | 'client-reset' | 'service-reset' | 'peer-killed'
type Outcome = 'ok' | 'false-clean-end' | 'unexpected-reset' | 'timeout'

const counts: Record<Kind, Record<Outcome, number>> = Object.fromEntries(
  (['clean', 'half-close', 'client-reset', 'service-reset', 'peer-killed'] as Kind[]).map(kind => [kind, { ok: 0, 'false-clean-end': 0, 'unexpected-reset': 0, timeout: 0 }])
) as any

function log (message: string): void {
  process.stderr.write(`  [soak ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

function payload (index: number, size: number): Buffer {
  const buffer = Buffer.alloc(size)
  for (let i = 0; i + 4 <= size; i += 4) buffer.writeUInt32LE((index * 2654435761 + i) >>> 0, i)
  return buffer
}

/** Writes `chunk` over and over, with backpressure, until the socket is gone. */
function writeForever (socket: Socket, chunk: Buffer): void {
  const next = (): void => {
    while (!socket.destroyed) {
      if (!socket.write(chunk)) {
        socket.once('drain', next)
        return
      }
    }
  }
  next()
}

function sha (data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

const serviceSockets = new Set<Socket>()
const serviceOf = new WeakMap<Socket, string>()
const acceptedAt = new WeakMap<Socket, number>()
/** when the last client finished: service connections accepted later are the up-probes of `services` */
let clientsDoneAt = Infinity

/** Reads to EOF, waits `delayMs`, answers with the SHA-256 of what it read, waits again, ends. */
async function digestService (delayMs: () => number): Promise<TcpService> {
  const name = `digest(${delayMs()})`
  return startTcpServer(socket => {
    serviceSockets.add(socket)
    acceptedAt.set(socket, Date.now())
    serviceOf.set(socket, name)
    socket.once('close', () => serviceSockets.delete(socket))
    const hash = createHash('sha256')
    socket.on('data', chunk => hash.update(chunk))
    socket.once('end', () => {
      setTimeout(() => {
        if (socket.destroyed) return
        socket.write(hash.digest('hex'))
        setTimeout(() => { if (!socket.destroyed) socket.end() }, delayMs())
      }, delayMs())
    })
  })
}

/** Reads 32 KiB, then stops reading and closes with the rest unread. */
async function dropService (): Promise<TcpService> {
  let n = 0
  return startTcpServer(socket => {
    serviceSockets.add(socket)
    acceptedAt.set(socket, Date.now())
    socket.once('close', () => serviceSockets.delete(socket))
    const reset = n++ % 2 === 0
    serviceOf.set(socket, reset ? 'drop(reset)' : 'drop(destroy)')
    let read = 0
    // a connection that ends before 32 KiB (the up-probe of `services`) is ended back
    socket.once('end', () => { if (!socket.destroyed) socket.end() })
    socket.on('data', chunk => {
      read += chunk.length
      if (read >= 32 * 1024) {
        socket.pause()
        socket.removeAllListeners('data')
        if (reset) socket.resetAndDestroy()
        else socket.destroy()
      }
    })
  })
}

/** How one client connection ended. */
interface Ending { clean: boolean, reply: string, timedOut: boolean }

async function runClient (port: number, send: (socket: Socket) => void): Promise<Ending> {
  let socket: Socket
  try {
    socket = await connectTcp(port, 10_000)
  } catch {
    return { clean: false, reply: '', timedOut: false }
  }
  return new Promise(resolve => {
    let reply = ''
    let ended = false
    let errored = false
    const timer = setTimeout(() => { socket.destroy(); resolve({ clean: false, reply, timedOut: true }) }, CLIENT_DEADLINE_MS)
    socket.setEncoding('latin1')
    socket.on('data', chunk => { reply += chunk })
    socket.once('end', () => { ended = true })
    socket.on('error', () => { errored = true })
    socket.once('close', () => {
      clearTimeout(timer)
      resolve({ clean: ended && !errored, reply, timedOut: false })
    })
    send(socket)
  })
}

/** Writes `data` in 16 KiB pieces with backpressure, then ends (or not). */
function writeAll (socket: Socket, data: Buffer, end: boolean): Promise<void> {
  return new Promise(resolve => {
    let offset = 0
    const next = (): void => {
      while (offset < data.length) {
        if (socket.destroyed) return resolve()
        const piece = data.subarray(offset, offset + 16 * 1024)
        offset += piece.length
        if (!socket.write(piece)) {
          socket.once('drain', next)
          return
        }
      }
      if (end && !socket.destroyed) socket.end()
      resolve()
    }
    socket.once('close', () => resolve())
    next()
  })
}

async function oneTunnel (index: number, kind: Kind, ports: Record<string, number>): Promise<void> {
  const tally = counts[kind]
  if (kind === 'clean' || kind === 'half-close') {
    const data = payload(index, 1024 + (index * 7919) % (64 * 1024))
    const ending = await runClient(kind === 'clean' ? ports.digest! : ports.late!, socket => { void writeAll(socket, data, true) })
    if (ending.timedOut) tally.timeout++
    else if (!ending.clean) tally['unexpected-reset']++
    else if (ending.reply !== sha(data)) tally['false-clean-end']++
    else tally.ok++
  } else if (kind === 'client-reset') {
    const ending = await runClient(ports.digest!, socket => {
      socket.write(payload(index, 8 * 1024))
      setTimeout(() => { socket.resetAndDestroy() }, 5 + index % 40)
    })
    if (ending.timedOut) tally.timeout++
    else tally.ok++
  } else if (kind === 'service-reset') {
    const ending = await runClient(ports.drop!, socket => { void writeAll(socket, payload(index, 1024 * 1024), true) })
    if (ending.timedOut) tally.timeout++
    else if (ending.clean) tally['false-clean-end']++
    else tally.ok++
  }
}

async function main (): Promise<void> {
  const started = Date.now()
  const digest = await digestService(() => 0)
  const late = await digestService(() => 50 + Math.floor(Math.random() * 250))
  const drop = await dropService()
  const pair = await startTrustedPair({ a: { args: DAEMON_ARGS }, b: { args: DAEMON_ARGS } })
  const killed: TestDaemon[] = []
  let sampler: RssSampler | undefined
  try {
    for (const [name, service] of [['digest', digest], ['late', late], ['drop', drop]] as const) await expose(pair.a, name, service.target)
    const ports: Record<string, number> = {}
    for (const name of ['digest', 'late', 'drop']) ports[name] = (await forward(pair.b, pair.aId, name)).port
    await sleep(1000)
    const idle = { a: await rssBytes(pair.a.pid), b: await rssBytes(pair.b.pid) }
    sampler = new RssSampler([pair.a.pid, pair.b.pid], 250)

    const killedTotal = Math.round(TOTAL * 0.15)
    const perRound = Math.ceil(killedTotal / KILL_ROUNDS)
    const rest = TOTAL - perRound * KILL_ROUNDS
    const kinds: Kind[] = []
    for (let i = 0; i < rest; i++) {
      const r = (i * 37) % 100
      kinds.push(r < 40 ? 'clean' : r < 64 ? 'half-close' : r < 82 ? 'client-reset' : 'service-reset')
    }
    log(`${TOTAL} tunnels: ${rest} through B (${CONCURRENCY} at a time), ${perRound * KILL_ROUNDS} through ${KILL_ROUNDS} daemons killed mid-transfer`)

    // the peer-killed rounds run beside the main mix
    const killing = (async () => {
      for (let round = 0; round < KILL_ROUNDS; round++) {
        const c = await TestDaemon.start({ bootstrap: (await pair.a.id()).addresses, args: DAEMON_ARGS })
        killed.push(c)
        const cId = (await c.id()).peerId
        await trust(pair.a, cId)
        await trust(c, pair.aId)
        const { port } = await forward(c, pair.aId, 'digest')
        const chunk = payload(round, 64 * 1024)
        const clients = Array.from({ length: perRound }, async () => {
          const ending = await runClient(port, socket => { writeForever(socket, chunk) })
          const tally = counts['peer-killed']
          if (ending.timedOut) tally.timeout++
          else if (ending.clean) tally['false-clean-end']++
          else tally.ok++
        })
        await sleep(1500)
        await c.stop('SIGKILL')
        await Promise.all(clients)
        log(`round ${round + 1}/${KILL_ROUNDS}: daemon killed under ${perRound} sending clients`)
      }
    })()
    // awaited below; a failure must not be an unhandled rejection meanwhile
    killing.catch(() => {})

    let next = 0
    let done = 0
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < kinds.length) {
        const index = next++
        await oneTunnel(index, kinds[index]!, ports)
        if (++done % 1000 === 0) log(`${done}/${kinds.length} through B`)
      }
    }))
    await killing
    clientsDoneAt = Date.now()
    log('all clients done; waiting for the tunnels to end')

    const settleStarted = Date.now()
    const active = async (): Promise<{ a: number, b: number, sockets: number }> => ({
      a: (await services(pair.a)).reduce((sum, view) => sum + view.active, 0),
      b: (await forwards(pair.b)).reduce((sum, view) => sum + view.active, 0),
      sockets: tunnelSockets().length
    })
    const tunnelSockets = (): Socket[] => [...serviceSockets].filter(socket => (acceptedAt.get(socket) ?? 0) <= clientsDoneAt)
    let left = await active()
    let lingering: Array<Record<string, unknown>> = []
    try {
      left = await waitFor('every tunnel to end', async () => {
        const now = await active()
        if (JSON.stringify(now) !== JSON.stringify(left)) log(`still active: exposing ${now.a}, forwarding ${now.b}, service connections ${now.sockets}`)
        lingering = tunnelSockets().slice(0, 20).map(socket => ({ service: serviceOf.get(socket), read: socket.bytesRead, written: socket.bytesWritten, readableEnded: socket.readableEnded, writableEnded: socket.writableEnded }))
        left = now
        return now.a === 0 && now.b === 0 && now.sockets === 0 ? now : undefined
      }, GRACE_MS, 500)
    } catch {}
    const settleMs = Date.now() - settleStarted
    const peaks = sampler.stop()
    sampler = undefined
    const peak = { a: peaks.get(pair.a.pid) ?? 0, b: peaks.get(pair.b.pid) ?? 0 }
    const falseClean = Object.values(counts).reduce((sum, tally) => sum + tally['false-clean-end'], 0)
    const timeouts = Object.values(counts).reduce((sum, tally) => sum + tally.timeout, 0)
    const MiB = 1024 * 1024
    const result = {
      part: 'soak',
      date: new Date().toISOString(),
      machine: machine(),
      tunnels: TOTAL,
      seconds: Math.round((Date.now() - started) / 1000),
      stuckTunnels: { exposing: left.a, forwarding: left.b, serviceConnectionsOpen: left.sockets, after: `${GRACE_MS / 1000} s grace` },
      settleMs,
      falseCleanEnds: falseClean,
      clientTimeouts: timeouts,
      byKind: counts,
      rssMiB: {
        exposing: { idle: +(idle.a / MiB).toFixed(1), peak: +(peak.a / MiB).toFixed(1), growth: +((peak.a - idle.a) / MiB).toFixed(1) },
        forwarding: { idle: +(idle.b / MiB).toFixed(1), peak: +(peak.b / MiB).toFixed(1), growth: +((peak.b - idle.b) / MiB).toFixed(1) },
        budget: BUDGET / MiB
      },
      // the budget's own count of buffered tunnel bytes (`status`), sampled every 50 ms
      tunnelBuffersMiB: Object.fromEntries(await Promise.all([['exposing', pair.a], ['forwarding', pair.b]].map(async ([name, daemon]) => {
        const usage = (await cliJson((daemon as TestDaemon).dataDir, ['status'])).tunnelBuffers
        // a daemon from before the budget has none
        return [name, usage == null ? null : { peak: +(usage.peakBytes / MiB).toFixed(1), budget: usage.budgetBytes / MiB, resets: usage.resets }]
      }))),
      daemonsAlive: pair.a.process.exitCode == null && pair.b.process.exitCode == null,
      // as they were at the last look before the grace ended
      openServiceConnections: lingering,
      activeForwards: (await forwards(pair.b)).filter(view => view.active > 0).map(view => ({ service: view.service, active: view.active }))
    }
    const file = await writeResult('soak.json', `${JSON.stringify(result, null, 2)}\n`)
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    log(`stuck tunnels: ${left.a + left.b} (service connections open: ${left.sockets}); false clean ends: ${falseClean}; client timeouts: ${timeouts}; ` +
      `RSS exposing ${result.rssMiB.exposing.idle} -> ${result.rssMiB.exposing.peak} MiB, forwarding ${result.rssMiB.forwarding.idle} -> ${result.rssMiB.forwarding.peak} MiB; ` +
      `buffered tunnel bytes at most ${JSON.stringify(result.tunnelBuffersMiB)} (budget ${BUDGET / MiB} MiB each); ${file}`)
    if (DEBUG) process.stderr.write(pair.b.stderr.split('\n').filter(line => line.startsWith('STUCK')).join('\n') + '\n')
    process.exitCode = left.a + left.b + left.sockets + falseClean === 0 && result.daemonsAlive ? 0 : 1
  } finally {
    sampler?.stop()
    await Promise.all([...killed.map(async daemon => daemon.destroy()), pair.a.destroy(), pair.b.destroy()])
    await Promise.all([digest.close(), late.close(), drop.close()])
  }
}

await main()
