/**
 * The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core
 * (which never downloads a browser here). B forwards to an HTTP service on A; the page B
 * serves lists A as a direct peer, and the forward's byte counter and rate rise while
 * curl uploads through it. Requests without the secret, with a foreign Host header, or
 * that would change something are refused, and no answer carries a CORS header.
 * AGENTMESH_SCREENSHOT=docs/dashboard.png also saves a screenshot of the page.
 */

import assert from 'node:assert/strict'
import { rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { chromium } from 'playwright-core'
import { cliJson, tempDir, waitFor } from '../helpers/daemon.ts'
import { MiB, deterministicBytes, deterministicSha256 } from '../helpers/services/data.ts'
import { startHttpService } from '../helpers/services/http.ts'
import { agentmesh, expose, forward, startTrustedPair } from '../helpers/services/mesh.ts'
import { describeRun, run } from '../helpers/services/process.ts'
import { missingTool, toolPath } from '../helpers/services/tools.ts'
import type { HttpService } from '../helpers/services/http.ts'
import type { Forward, Pair } from '../helpers/services/mesh.ts'
import type { Browser, BrowserServer, Page } from 'playwright-core'

const CHROMIUM = toolPath('chromium')
const UPLOADED = 16 * MiB
const SEED = 'agentmesh dashboard upload'
const skip = missingTool('chromium', 'chromium') || missingTool('curl', 'curl')

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A raw request with exactly the headers given, Host included or left out (fetch would not let a test set it). */
async function get (port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, setHost: 'host' in headers, timeout: 5_000 }, res => {
      let body = ''
      res.on('data', chunk => { body += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
      // an event stream never ends: its headers are the answer
      if (res.headers['content-type'] === 'text/event-stream') {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' })
        req.destroy()
      }
    })
    req.on('error', reject)
    req.end()
  })
}

function corsHeaders (answer: Answer): string[] {
  return Object.keys(answer.headers).filter(name => name.startsWith('access-control-'))
}

describe('dashboard in headless chromium', { skip }, () => {
  let pair: Pair | undefined
  let web: HttpService | undefined
  let server: BrowserServer | undefined
  let browser: Browser | undefined
  let page: Page
  let fwd: Forward
  let url: URL

  before(async () => {
    web = await startHttpService()
    pair = await startTrustedPair()
    await expose(pair.a, 'web', web.target, 'http')
    fwd = await forward(pair.b, pair.aId, 'web')
    url = new URL((await cliJson<{ url: string }>(pair.b.dataDir, ['ui'])).url)
    server = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server'] })
    browser = await chromium.connect(server.wsEndpoint())
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
  })

  after(async () => {
    await browser?.close().catch(() => {})
    const pid = server?.process().pid
    await server?.close().catch(() => {})
    if (pid != null) try { process.kill(pid, 'SIGKILL') } catch {}
    await Promise.all([pair?.a.destroy(), pair?.b.destroy(), web?.close()])
  })

  it('agentmesh ui prints a loopback URL with a secret, the same until the daemon restarts', async () => {
    assert.equal(url.hostname, '127.0.0.1')
    assert.match(url.searchParams.get('token') ?? '', /^[\w-]{43}$/)
    assert.equal((await agentmesh(pair!.b, ['ui'])).trim(), url.href)
  })

  it('the first request trades the token for an HttpOnly, SameSite=Strict cookie and drops it from the address bar', async () => {
    const first = await get(Number(url.port), `/?token=${url.searchParams.get('token')}`, { host: url.host })
    assert.equal(first.status, 303)
    assert.equal(first.headers.location, '/')
    const cookie = String(first.headers['set-cookie'])
    assert.match(cookie, new RegExp(`^agentmesh_ui_${url.port}=[\\w-]{43}; HttpOnly; SameSite=Strict; Path=/$`))
    await page.goto(url.href)
    assert.equal(page.url(), `${url.origin}/`)
    assert.equal(await page.evaluate('document.cookie'), '', 'scripts cannot read the cookie')
  })

  it('lists A as a direct peer, over TCP with noise, live', async () => {
    const path = page.locator(`#peers tr[data-peer="${pair!.aId}"] td.path`)
    await path.waitFor({ timeout: 15_000 })
    await waitFor('A to be listed as direct', async () => (await path.textContent()) === 'direct')
    const cells = page.locator(`#peers tr[data-peer="${pair!.aId}"]`)
    assert.equal(await cells.locator('td.transport').textContent(), 'tcp')
    assert.equal(await cells.locator('td.encryption').textContent(), '/noise')
    assert.match(await cells.locator('td.rtt').textContent() ?? '', /^[\d.]+ ms$|^-$/)
    assert.equal(await page.locator(`#graph line.direct[data-peer="${pair!.aId}"]`).count(), 1, 'a solid (direct) edge to A')
    assert.equal(await page.locator('#live').textContent(), 'live')
    assert.equal(await page.locator('#node-id').textContent(), pair!.bId)
  })

  it('the forward\'s byte counter and rate rise while curl copies through it', async () => {
    // an upload: the forward counts what it reads from curl, which sends at its --limit-rate
    // (a download's counter runs ahead of curl by what the sockets buffer)
    const file = join(await tempDir(), 'upload.bin')
    await writeFile(file, deterministicBytes(SEED, UPLOADED))
    const row = page.locator(`#forwards tr[data-listen="${fwd.listen}"]`)
    const sent = async (): Promise<number> => Number(await row.getAttribute('data-bytes-out'))
    const start = await sent()
    let done = false
    const copy = run('curl', ['-sS', '--limit-rate', '4M', '--data-binary', `@${file}`, '-H', 'content-type: application/octet-stream', `http://127.0.0.1:${fwd.port}/sha256`], { timeoutMs: 60_000 })
      .finally(() => { done = true })
    const seen: number[] = []
    let rate = ''
    while (!done && seen.length < 3) {
      const now = await waitFor('the counter to rise', async () => {
        const value = await sent()
        return value > (seen.at(-1) ?? start) ? value : undefined
      }, 5_000, 100).catch(() => undefined)
      if (now == null || done) break
      seen.push(now)
      rate = await row.locator('td.rate-out').textContent() ?? ''
    }
    const result = await copy
    await rm(dirname(file), { recursive: true, force: true })
    assert.equal(result.code, 0, describeRun('curl', result))
    assert.deepEqual(JSON.parse(result.stdout), { sha256: deterministicSha256(SEED, UPLOADED), bytes: UPLOADED })
    assert.ok(seen.length >= 2 && (seen.at(-1) as number) < start + UPLOADED, `the page showed the counter rising while the copy ran: ${seen.join(', ')}`)
    assert.match(rate, /^[\d.]+ (KiB|MiB)\/s$/, `a live rate while copying: "${rate}"`)
    await waitFor('the page to show the whole copy', async () => await sent() >= start + UPLOADED)
    if (process.env.AGENTMESH_SCREENSHOT != null) {
      // a copy running while the picture is taken: the rates are not zero
      const again = run('curl', ['-sS', '--limit-rate', '3M', '-o', '/dev/null', `http://127.0.0.1:${fwd.port}/blob`], { timeoutMs: 60_000 })
      await page.waitForTimeout(2_500)
      await page.screenshot({ path: process.env.AGENTMESH_SCREENSHOT, fullPage: true })
      await again
    }
  })

  it('shows the recent events', async () => {
    await page.locator('#events li[data-type="peer.connected"]').first().waitFor({ timeout: 10_000 })
    assert.ok(await page.locator('#events li[data-type="trust.changed"]').count() >= 1)
  })

  it('refuses a request without the secret, with a wrong one, or with a foreign Host, and sends no CORS headers', async () => {
    const port = Number(url.port)
    const token = url.searchParams.get('token') as string
    const cookie = `agentmesh_ui_${port}=${token}`
    const cases: Array<[string, string, Record<string, string>]> = [
      ['no secret', '/', { host: url.host }],
      ['no secret, the data', '/api/snapshot', { host: url.host }],
      ['a wrong token', `/?token=${token.slice(1)}x`, { host: url.host }],
      ['a wrong cookie', '/api/snapshot', { host: url.host, cookie: `agentmesh_ui_${port}=nope` }],
      ['another daemon\'s cookie name', '/api/snapshot', { host: url.host, cookie: `agentmesh_ui_1=${token}` }],
      ['a foreign Host with the token', `/?token=${token}`, { host: `evil.example:${port}` }],
      ['a foreign Host with the cookie', '/api/stream', { host: `evil.example:${port}`, cookie, origin: 'http://evil.example' }],
      ['a foreign Host on the right address', '/api/snapshot', { host: `127.0.0.2:${port}`, cookie }],
      // node's HTTP server itself refuses an HTTP/1.1 request without Host (400)
      ['no Host', '/api/snapshot', { cookie }]
    ]
    for (const [what, path, headers] of cases) {
      const answer = await get(port, path, headers)
      assert.equal(answer.status, what === 'no Host' ? 400 : 403, `${what}: ${answer.status} ${answer.body}`)
      assert.deepEqual(corsHeaders(answer), [], `${what}: no CORS headers`)
    }
    const ok = await get(port, '/api/snapshot', { host: url.host, cookie, origin: 'http://evil.example' })
    assert.equal(ok.status, 200)
    assert.deepEqual(corsHeaders(ok), [], 'no CORS headers on an allowed request either')
    assert.equal(JSON.parse(ok.body).node.peerId, pair!.bId)
    assert.equal((await get(port, '/api/snapshot', { host: `localhost:${port}`, cookie })).status, 200, 'localhost names the same server')
    const write = await get(port, '/api/snapshot', { host: url.host, cookie }, 'POST')
    assert.equal(write.status, 405, 'read-only')
    assert.match(String(ok.headers['content-security-policy']), /default-src 'none'/)
  })

  it('in the browser too: a URL without the secret gets 403', async () => {
    const context = await browser!.newContext()
    try {
      const other = await context.newPage()
      const answer = await other.goto(`${url.origin}/`)
      assert.equal(answer?.status(), 403)
    } finally {
      await context.close()
    }
  })
})
