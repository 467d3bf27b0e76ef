/**
 * HTTP through a tunnel: curl on B's side, a node:http server behind
 * `expose` on A's side, nothing of ours between them but the tunnel.
 */

import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { tempDir, waitFor } from '../helpers/daemon.ts'
import { MiB, deterministicChunks, deterministicSha256 } from '../helpers/services/data.ts'
import { BLOB_BYTES, BLOB_SEED, startHttpService } from '../helpers/services/http.ts'
import { expose, failureCount, forward, forwardView, serviceView, startTrustedPair } from '../helpers/services/mesh.ts'
import { describeRun, run } from '../helpers/services/process.ts'
import { missingTool } from '../helpers/services/tools.ts'
import type { HttpService } from '../helpers/services/http.ts'
import type { Forward, Pair } from '../helpers/services/mesh.ts'

const CONCURRENT = 200
const POST_BYTES = 32 * MiB
const skip = missingTool('curl', 'curl')

describe('HTTP through a tunnel, with curl', { skip }, () => {
  let pair: Pair | undefined
  let http: HttpService | undefined
  let dir: string
  let fwd: Forward

  before(async () => {
    dir = await tempDir('agentmesh-http-')
    http = await startHttpService({ holdUntil: CONCURRENT, holdMs: 15_000 })
    pair = await startTrustedPair()
    await expose(pair.a, 'web', http.target, 'http')
    fwd = await forward(pair.b, pair.aId, 'web')
  })

  after(async () => {
    await Promise.all([pair?.a.destroy(), pair?.b.destroy(), http?.close()])
    await rm(dir, { recursive: true, force: true })
  })

  it('GET of a 32 MiB body arrives byte-exact', async () => {
    const result = await run('curl', ['--silent', '--show-error', '--fail', '--max-time', '60', `http://127.0.0.1:${fwd.port}/blob`], { timeoutMs: 70_000, digestStdout: true })
    assert.equal(result.code, 0, describeRun('curl GET /blob', result))
    assert.equal(result.digest?.bytes, BLOB_BYTES)
    assert.equal(result.digest?.sha256, deterministicSha256(BLOB_SEED, BLOB_BYTES))
  })

  it('POST of a 32 MiB body arrives byte-exact', async () => {
    const file = join(dir, 'post.bin')
    await writeFile(file, Buffer.concat([...deterministicChunks('http post', POST_BYTES)]))
    const result = await run('curl', [
      '--silent', '--show-error', '--fail', '--max-time', '60',
      '--header', 'content-type: application/octet-stream', '--data-binary', `@${file}`,
      `http://127.0.0.1:${fwd.port}/sha256`
    ], { timeoutMs: 70_000 })
    assert.equal(result.code, 0, describeRun('curl POST /sha256', result))
    assert.deepEqual(JSON.parse(result.stdout), { sha256: deterministicSha256('http post', POST_BYTES), bytes: POST_BYTES })
  })

  it(`${CONCURRENT} concurrent curl requests all succeed, all in flight at once`, async () => {
    const config = join(dir, 'parallel.curlrc')
    const lines: string[] = []
    for (let i = 0; i < CONCURRENT; i++) lines.push(`url = "http://127.0.0.1:${fwd.port}/hello?i=${i}"`, `output = "${join(dir, `hello-${i}.txt`)}"`)
    await writeFile(config, lines.join('\n') + '\n')
    const answeredBefore = http?.helloAnswered ?? 0
    const result = await run('curl', [
      '--silent', '--show-error', '--fail', '--max-time', '60',
      '--no-progress-meter', '--parallel', '--parallel-immediate', '--parallel-max', String(CONCURRENT),
      '--write-out', '%{http_code} %{url_effective} %{size_download}\\n',
      '--config', config
    ], { timeoutMs: 70_000 })
    assert.equal(result.code, 0, describeRun('curl --parallel', result))
    const lines200 = result.stdout.trim().split('\n').filter(line => line.startsWith('200 '))
    assert.equal(lines200.length, CONCURRENT, `every request answered 200:\n${result.stdout}`)
    for (let i = 0; i < CONCURRENT; i++) {
      assert.equal(await readFile(join(dir, `hello-${i}.txt`), 'utf8'), `hello ${i}\n`, `body of request ${i}`)
    }
    assert.equal((http?.helloAnswered ?? 0) - answeredBefore, CONCURRENT)
    assert.equal(http?.peakInFlight, CONCURRENT, `the server saw all ${CONCURRENT} requests in flight at the same time`)
  })

  it('counts the connections and the bytes each way on both ends', async () => {
    // GET 32 MiB went from the service to the client; POST 32 MiB the other way; then at least 200 connections
    const service = await waitFor('the service counters to settle', async () => {
      const view = await serviceView(pair!.a, 'web')
      return view.active === 0 && view.connections >= CONCURRENT + 2 ? view : undefined
    })
    assert.equal(service.up, true)
    assert.equal(service.proto, 'http')
    assert.equal(service.target, http?.target)
    assert.ok(service.bytesOut >= BLOB_BYTES, `service bytesOut ${service.bytesOut} >= ${BLOB_BYTES}`)
    assert.ok(service.bytesIn >= POST_BYTES, `service bytesIn ${service.bytesIn} >= ${POST_BYTES}`)
    const view = await waitFor('the forward counters to settle', async () => {
      const entry = await forwardView(pair!.b, fwd.port)
      return entry.active === 0 && entry.connections >= CONCURRENT + 2 ? entry : undefined
    })
    assert.equal(view.peer, pair?.aId)
    assert.equal(view.service, 'web')
    assert.ok(view.bytesIn >= BLOB_BYTES, `forward bytesIn ${view.bytesIn} >= ${BLOB_BYTES}`)
    assert.ok(view.bytesOut >= POST_BYTES, `forward bytesOut ${view.bytesOut} >= ${POST_BYTES}`)
    assert.equal(failureCount(view.failures), 0, `no failures: ${JSON.stringify(view.failures)}`)
  })
})
