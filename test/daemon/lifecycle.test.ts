import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { cli, cliJson, TestDaemon, tempDir } from '../helpers/daemon.ts'

describe('one daemon and its data directory', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(async () => {
    for (const step of cleanup.reverse()) await step()
  })

  it('keeps its identity across a restart; key and socket are private to the user', async () => {
    const first = await TestDaemon.start()
    cleanup.push(async () => first.destroy())
    const { peerId } = await first.id()
    assert.equal((await stat(join(first.dataDir, 'identity.key'))).mode & 0o777, 0o600)
    assert.equal((await stat(join(first.dataDir, 'control.sock'))).mode & 0o777, 0o600)
    assert.equal(await first.stop(), 0, 'SIGTERM exits 0')
    assert.equal(existsSync(join(first.dataDir, 'control.sock')), false, 'the socket is removed')

    const second = await TestDaemon.start({ dataDir: first.dataDir })
    cleanup.push(async () => second.destroy())
    assert.equal((await second.id()).peerId, peerId)
    await second.stop('SIGINT')
  })

  it('runs with its V8 flags in the pid it was started as, unless the user set the semi-space size', async () => {
    const tuned = await TestDaemon.start()
    cleanup.push(async () => tuned.destroy())
    const commandLine = async (pid: number): Promise<string[]> => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
    assert.ok((await commandLine(tuned.pid)).includes('--max-semi-space-size=1'), 'the daemon re-executed itself with the flag')
    assert.equal(await tuned.stop(), 0, 'and it is the same process: SIGTERM to the pid stops it cleanly')

    const own = await TestDaemon.start({ env: { NODE_OPTIONS: '--max-semi-space-size=8' } })
    cleanup.push(async () => own.destroy())
    assert.ok(!(await commandLine(own.pid)).includes('--max-semi-space-size=1'), 'a size from NODE_OPTIONS is kept')
  })

  it('writes libp2p\'s debug logs to stderr for the namespaces DEBUG names, and only those', async () => {
    const traced = await TestDaemon.start({ env: { DEBUG: 'libp2p:tcp*' } })
    cleanup.push(async () => traced.destroy())
    assert.equal(await traced.stop(), 0)
    assert.match(traced.stderr, / libp2p:tcp:listener listening on /)
    assert.doesNotMatch(traced.stderr, / libp2p:(kad-dht|connection-manager|transports)\b/)
  })

  it('refuses a second daemon on the same data directory, naming the running one', async () => {
    const running = await TestDaemon.start()
    cleanup.push(async () => running.destroy())
    const result = await cli(['start', '--data-dir', running.dataDir, '--listen', '/ip4/127.0.0.1/tcp/0'])
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, new RegExp(`another agentmesh daemon \\(pid ${running.pid}\\) is running`))
    assert.equal(result.stderr.trim().split('\n').length, 1, 'a one-line error')
    assert.equal((await cli(['id', '--data-dir', running.dataDir])).code, 0, 'the running daemon is untouched')
  })

  it('replaces the stale socket and pid file of a daemon that was killed', async () => {
    const crashed = await TestDaemon.start()
    cleanup.push(async () => crashed.destroy())
    const { peerId } = await crashed.id()
    await crashed.stop('SIGKILL')
    assert.ok(existsSync(join(crashed.dataDir, 'control.sock')), 'a killed daemon leaves its socket behind')
    const restarted = await TestDaemon.start({ dataDir: crashed.dataDir })
    cleanup.push(async () => restarted.destroy())
    assert.equal((await restarted.id()).peerId, peerId)
  })

  it('refuses an identity key that others can read, or that is corrupt, and keeps the file', async () => {
    const dataDir = await tempDir()
    cleanup.push(async () => rm(dataDir, { recursive: true, force: true }))
    const key = join(dataDir, 'identity.key')
    const daemon = await TestDaemon.start({ dataDir })
    await daemon.stop()

    await chmod(key, 0o644)
    let result = await cli(['start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0'])
    assert.equal(result.code, 1)
    assert.equal(result.stderr.trim(), `agentmesh start: permissions 0644 for identity key ${key} are too open: run chmod 600 ${key}`)

    await writeFile(key, 'not a key', { mode: 0o600 })
    await chmod(key, 0o600)
    result = await cli(['start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /identity key .* is corrupt/)
    assert.equal(result.stderr.trim().split('\n').length, 1)
    assert.equal(existsSync(key), true, 'the key file is left for the user to recover')
  })

  it('fails a bad config value or an unknown flag with a one-line error naming it', async () => {
    const dataDir = await tempDir()
    cleanup.push(async () => rm(dataDir, { recursive: true, force: true }))
    let result = await cli(['start', '--data-dir', dataDir, '--dht-mode', 'sometimes'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^agentmesh start: invalid configuration: dht\.mode = "sometimes" \(from command-line flags\): .*"auto"\|"server"\|"client"\n$/)

    result = await cli(['start', '--data-dir', dataDir], { AGENTMESH_CONNECTIONS_MAX: 'many' })
    assert.match(result.stderr, /connections\.max = "many" \(from AGENTMESH_CONNECTIONS_MAX\)/)

    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ dht: { mode: 'server', speed: 11 } }))
    result = await cli(['start', '--data-dir', dataDir])
    assert.match(result.stderr, new RegExp(`unknown key "dht\\.speed" \\(from config file ${join(dataDir, 'config.json')}\\)`))

    result = await cli(['start', '--data-dir', dataDir, '--frobnicate'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /^agentmesh start: Unknown option '--frobnicate'\nusage: agentmesh start /)
    assert.equal(existsSync(join(dataDir, 'identity.key')), false, 'nothing is created on a failed start')
  })

  it('tells a client command when no daemon runs, and how to start one', async () => {
    const parent = await tempDir()
    cleanup.push(async () => rm(parent, { recursive: true, force: true }))
    const dataDir = join(parent, 'nothing-here')
    await mkdir(dataDir)
    const result = await cli(['status', '--data-dir', dataDir])
    assert.equal(result.code, 1)
    assert.equal(result.stdout, '')
    assert.equal(result.stderr, `agentmesh status: no agentmesh daemon is running on ${dataDir}: start one with \`npx agentmesh start --data-dir ${dataDir}\`\n`)
  })

  it('answers id, status and ping with the documented JSON', async () => {
    const a = await TestDaemon.start({ args: ['--name', 'alpha'] })
    cleanup.push(async () => a.destroy())
    const id = await cliJson(a.dataDir, ['id'])
    assert.deepEqual(Object.keys(id).sort(), ['addresses', 'peerId'])
    assert.match(id.peerId, /^12D3KooW/)
    assert.ok(id.addresses.every((address: string) => address.endsWith(`/p2p/${id.peerId}`)))

    const b = await TestDaemon.start({ bootstrap: id.addresses })
    cleanup.push(async () => b.destroy())
    const status = await cliJson(a.dataDir, ['status'])
    // every key the README's `status` row documents, and no other
    assert.deepEqual(Object.keys(status).sort(), ['addresses', 'dataDir', 'dhtMode', 'forwards', 'knownPeers', 'name', 'networks', 'peerId', 'peers', 'pid',
      'reachability', 'relayService', 'relays', 'services', 'tunnelBuffers', 'uptimeSeconds', 'version'])
    assert.equal(status.peerId, id.peerId)
    assert.deepEqual(status.addresses, id.addresses)
    assert.equal(status.name, 'alpha')
    assert.match(status.version, /^\d+\.\d+\.\d+/)
    assert.equal(status.pid, a.pid)
    assert.equal(status.dataDir, a.dataDir)
    assert.ok(Number.isInteger(status.uptimeSeconds) && status.uptimeSeconds >= 0)
    assert.ok(['public', 'private', 'unknown'].includes(status.reachability))
    assert.ok(['client', 'server'].includes(status.dhtMode))
    assert.equal(status.relayService, null, 'not a relay')
    assert.ok(Array.isArray(status.relays) && Array.isArray(status.services) && Array.isArray(status.forwards))
    assert.deepEqual(status.networks, [])
    assert.equal(typeof status.peers, 'number')
    assert.ok(status.knownPeers >= status.peers)
    assert.deepEqual(Object.keys(status.tunnelBuffers).sort(), ['budgetBytes', 'bufferedBytes', 'peakBytes', 'resets'])

    const bId = (await b.id()).peerId
    const ping = await cli(['ping', bId, '--count', '2', '--data-dir', a.dataDir])
    assert.equal(ping.code, 0, ping.stderr)
    assert.match(ping.stdout, /^seq=1 rtt=\d+(\.\d+)? ms\nseq=2 rtt=\d+(\.\d+)? ms\n2 sent, 2 received, rtt min\/avg\/max /)
    const pingJson = await cliJson(a.dataDir, ['ping', bId, '--count', '1'])
    assert.equal(pingJson.received, 1)
    assert.equal(typeof pingJson.rttMs[0], 'number')

    const bad = await cli(['ping', 'not-a-peer', '--data-dir', a.dataDir])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /"not-a-peer" is neither a peer id nor a multiaddr/)
  })
})
