/**
 * SSH through a tunnel: OpenSSH's ssh and scp on B's side, OpenSSH's sshd
 * (its own config, port and keys) behind `expose --proto ssh` on A's side.
 */

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { MiB, deterministicBytes, sha256 } from '../helpers/services/data.ts'
import { expose, forward, startTrustedPair } from '../helpers/services/mesh.ts'
import { describeRun, run } from '../helpers/services/process.ts'
import { sshMissing, startSshd } from '../helpers/services/sshd.ts'
import type { Forward, Pair } from '../helpers/services/mesh.ts'
import type { Sshd } from '../helpers/services/sshd.ts'

const COPIED = 16 * MiB
const skip = sshMissing()

describe('SSH through a tunnel, with OpenSSH on both ends', { skip }, () => {
  let pair: Pair | undefined
  let sshd: Sshd | undefined
  let fwd: Forward

  before(async () => {
    sshd = await startSshd()
    pair = await startTrustedPair()
    await expose(pair.a, 'ssh', sshd.target, 'ssh')
    fwd = await forward(pair.b, pair.aId, 'ssh')
  })

  after(async () => {
    await Promise.all([pair?.a.destroy(), pair?.b.destroy(), sshd?.stop()])
  })

  it('ssh runs a command through the forward', async () => {
    const nonce = randomUUID()
    const result = await run('ssh', [...sshd!.clientOptions(), '-p', String(fwd.port), `${sshd!.user}@127.0.0.1`, `echo tunnelled ${nonce}; echo to stderr >&2; exit 3`], { timeoutMs: 30_000 })
    assert.equal(result.code, 3, `${describeRun('ssh', result)}\nsshd log:\n${sshd!.log()}`)
    assert.equal(result.stdout, `tunnelled ${nonce}\n`)
    assert.match(result.stderr, /to stderr/)
  })

  it(`scp copies ${COPIED / MiB} MiB each way at the same time, checksums equal`, async () => {
    const dir = sshd!.dir
    const up = deterministicBytes('scp up', COPIED)
    const down = deterministicBytes('scp down', COPIED)
    await writeFile(join(dir, 'up-source.bin'), up)
    await writeFile(join(dir, 'down-source.bin'), down)
    const remote = `${sshd!.user}@127.0.0.1`
    const options = [...sshd!.clientOptions(), '-P', String(fwd.port)]
    const [upload, download] = await Promise.all([
      run('scp', [...options, join(dir, 'up-source.bin'), `${remote}:${join(dir, 'up-copy.bin')}`], { timeoutMs: 90_000 }),
      run('scp', [...options, `${remote}:${join(dir, 'down-source.bin')}`, join(dir, 'down-copy.bin')], { timeoutMs: 90_000 })
    ])
    assert.equal(upload.code, 0, `${describeRun('scp upload', upload)}\nsshd log:\n${sshd!.log()}`)
    assert.equal(download.code, 0, `${describeRun('scp download', download)}\nsshd log:\n${sshd!.log()}`)
    assert.equal(sha256(await readFile(join(dir, 'up-copy.bin'))), sha256(up), 'the uploaded copy')
    assert.equal(sha256(await readFile(join(dir, 'down-copy.bin'))), sha256(down), 'the downloaded copy')
  })
})
