/**
 * Takes the dashboard screenshot the README shows (`node bench/dashboard-screenshot.ts
 * docs/dashboard.png`; not part of `npm run bench`): a relay, two peers reached
 * directly and one through the relay, forwards and a service carrying curl traffic,
 * a forward to a service that does not exist, then headless chromium on `agentmesh ui`.
 */

import { randomBytes } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { cliJson, TestDaemon, waitFor } from '../test/helpers/daemon.ts'
import { startHttpService } from '../test/helpers/services/http.ts'
import { agentmesh, expose, forward, trust } from '../test/helpers/services/mesh.ts'
import { run } from '../test/helpers/services/process.ts'
import { startEchoServer, roundTrip } from '../test/helpers/services/tcp.ts'

const output = process.argv[2] ?? 'docs/dashboard.png'
const quiet = { AGENTMESH_DISCOVERY_WALK_INTERVAL_SECONDS: '3600' }
const daemons: TestDaemon[] = []
const web = await startHttpService()
const echo = await startEchoServer()
const copies: Array<Promise<unknown>> = []
try {
  const relay = await TestDaemon.start({ args: ['--relay', '--name', 'relay'] })
  daemons.push(relay)
  const relayAddress = (await relay.id()).addresses[0] as string
  const start = async (name: string, args: string[] = [], env = {}): Promise<{ daemon: TestDaemon, id: string }> => {
    const daemon = await TestDaemon.start({ bootstrap: [relayAddress], args: ['--name', name, ...args], env })
    daemons.push(daemon)
    return { daemon, id: (await daemon.id()).peerId }
  }
  const alpha = await start('alpha')
  const delta = await start('delta')
  // a DHT client that holds a reservation: the hub meets it through the relay only
  const gamma = await start('gamma', ['--dht-mode', 'client'], quiet)
  // a DHT client too, so that gamma's lookups do not dial it; no hole punching, so the relayed path stays
  const hub = await start('hub', ['--dht-mode', 'client'], { ...quiet, AGENTMESH_NAT_HOLE_PUNCHING: 'false' })
  await trust(hub.daemon, (await relay.id()).peerId, 'relay')
  for (const peer of [alpha, delta, gamma, hub]) await trust(relay, peer.id)
  for (const [peer, name] of [[alpha, 'alpha'], [delta, 'delta'], [gamma, 'gamma']] as const) {
    await trust(hub.daemon, peer.id, name)
    await trust(peer.daemon, hub.id, 'hub')
  }
  await expose(alpha.daemon, 'web', web.target, 'http')
  await expose(delta.daemon, 'echo', echo.target)
  await expose(hub.daemon, 'docs', web.target, 'http')
  await waitFor('gamma\'s reservation', async () => (await gamma.daemon.id()).addresses.some(address => address.includes('p2p-circuit')))
  await agentmesh(hub.daemon, ['ping', `${relayAddress}/p2p-circuit/p2p/${gamma.id}`, '--count', '1'])
  await agentmesh(hub.daemon, ['ping', alpha.id, '--count', '2'])
  await agentmesh(hub.daemon, ['ping', delta.id, '--count', '2'])
  const toWeb = await forward(hub.daemon, alpha.id, 'web', '127.0.0.1:8080')
  const toEcho = await forward(hub.daemon, delta.id, 'echo', '127.0.0.1:7000')
  const toNothing = await forward(hub.daemon, delta.id, 'metrics', '127.0.0.1:9100')
  const toDocs = await forward(alpha.daemon, hub.id, 'docs')
  await roundTrip(toEcho.port, Buffer.from('hello'))
  await run('curl', ['-sS', '-o', '/dev/null', `http://127.0.0.1:${toNothing.port}/`], { timeoutMs: 10_000 })
  const upload = join(tmpdir(), `agentmesh-screenshot-${process.pid}.bin`)
  await writeFile(upload, randomBytes(24 * 1024 * 1024))
  copies.push(run('curl', ['-sS', '--limit-rate', '3M', '--data-binary', `@${upload}`, `http://127.0.0.1:${toWeb.port}/sha256`], { timeoutMs: 60_000 }))
  copies.push(run('curl', ['-sS', '--limit-rate', '2M', '--data-binary', `@${upload}`, `http://127.0.0.1:${toDocs.port}/sha256`], { timeoutMs: 60_000 }))
  const { url } = await cliJson<{ url: string }>(hub.daemon.dataDir, ['ui'])
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] })
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
    await page.goto(url)
    await page.waitForTimeout(3_500)
    await page.screenshot({ path: output, fullPage: true })
    process.stdout.write(`wrote ${output}\n`)
  } finally {
    await browser.close()
  }
} finally {
  await Promise.allSettled(copies)
  await rm(join(tmpdir(), `agentmesh-screenshot-${process.pid}.bin`), { force: true })
  await Promise.all(daemons.map(async daemon => daemon.destroy()))
  await Promise.all([web.close(), echo.close()])
}
