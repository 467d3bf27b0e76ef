import assert from 'node:assert/strict'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import defaults from '../../config/default.json' with { type: 'json' }
import { ConfigError, envName, loadConfig } from '../../src/config/load.ts'
import { tempDir } from '../helpers/daemon.ts'

describe('loadConfig', () => {
  let dataDir: string
  before(async () => { dataDir = await tempDir() })
  after(async () => { await rm(dataDir, { recursive: true, force: true }) })

  it('gives config/default.json when nothing overrides it', async () => {
    assert.deepEqual(await loadConfig({ dataDir, env: {}, flags: {} }), defaults)
  })

  it('layers the config file, then AGENTMESH_* variables, then flags', async () => {
    const file = join(dataDir, 'layers.json')
    await writeFile(file, JSON.stringify({ name: 'from-file', dht: { mode: 'client' }, discovery: { walkIntervalSeconds: 7 }, log: { level: 'warn' } }))
    const config = await loadConfig({
      dataDir,
      configFile: file,
      env: { AGENTMESH_DHT_MODE: 'server', AGENTMESH_LOG_LEVEL: 'debug', AGENTMESH_LISTEN: '/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2', AGENTMESH_DISCOVERY_BOOTSTRAP_REDIAL_SECONDS: '2.5' },
      flags: { log: { level: 'error' } }
    })
    assert.equal(config.name, 'from-file', 'file over defaults')
    assert.equal(config.discovery.walkIntervalSeconds, 7, 'file over defaults, siblings kept')
    assert.equal(config.discovery.bootstrapRedialSeconds, 2.5, 'numbers from the environment')
    assert.equal(config.dht.mode, 'server', 'environment over file')
    assert.deepEqual(config.listen, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'], 'comma-separated lists')
    assert.equal(config.log.level, 'error', 'flags over environment')
    assert.equal(config.log.format, defaults.log.format)
  })

  it('reads config.json from the data directory unless --config names another file', async () => {
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ name: 'in-data-dir' }))
    assert.equal((await loadConfig({ dataDir, env: {}, flags: {} })).name, 'in-data-dir')
    await rm(join(dataDir, 'config.json'))
  })

  it('names every environment variable after its key', () => {
    assert.equal(envName(['discovery', 'walkIntervalSeconds']), 'AGENTMESH_DISCOVERY_WALK_INTERVAL_SECONDS')
    assert.equal(envName(['listen']), 'AGENTMESH_LISTEN')
  })

  it('reports each bad value with its key, the value, where it came from and what is allowed', async () => {
    await assert.rejects(loadConfig({ dataDir, env: { AGENTMESH_CONNECTIONS_MAX: '-1' }, flags: { listen: ['/ip4/127.0.0.1/tcp/1', 'localhost:80'] } }), (err: any) => {
      assert.equal(err.name, 'ConfigError')
      assert.match(err.message, /listen\[1\] = "localhost:80" \(from command-line flags\): expected a multiaddr/)
      assert.match(err.message, /connections\.max = -1 \(from AGENTMESH_CONNECTIONS_MAX\): .*>=1/)
      return true
    })
  })

  it('takes the metrics, webhook and dashboard addresses, and refuses a dashboard off loopback or a webhook that is not HTTP', async () => {
    const config = await loadConfig({ dataDir, env: { AGENTMESH_METRICS_LISTEN: '127.0.0.1:9464', AGENTMESH_EVENTS_WEBHOOK_RETRIES: '2' }, flags: { events: { webhook: 'https://hooks.example/agentmesh' }, ui: { listen: '[::1]:0' } } })
    assert.equal(config.metrics.listen, '127.0.0.1:9464')
    assert.deepEqual(config.events, { webhook: 'https://hooks.example/agentmesh', webhookRetries: 2, webhookQueue: 1000 })
    assert.equal(config.ui.listen, '[::1]:0')
    await assert.rejects(loadConfig({ dataDir, env: {}, flags: { ui: { listen: '0.0.0.0:8080' }, events: { webhook: 'ftp://hooks.example/' }, metrics: { listen: '9464' } } }), (err: any) => {
      assert.match(err.message, /ui\.listen = "0\.0\.0\.0:8080" \(from command-line flags\): expected a loopback host:port/)
      assert.match(err.message, /events\.webhook = "ftp:\/\/hooks\.example\/" \(from command-line flags\): expected an http:\/\/ or https:\/\/ URL/)
      assert.match(err.message, /metrics\.listen = "9464" \(from command-line flags\): expected host:port/)
      return true
    })
  })

  it('refuses a config file that is missing, not JSON or not an object', async () => {
    const file = join(dataDir, 'broken.json')
    await assert.rejects(loadConfig({ dataDir, configFile: file, env: {}, flags: {} }), /cannot read config file .*ENOENT/)
    await writeFile(file, '{ "name": ')
    await assert.rejects(loadConfig({ dataDir, configFile: file, env: {}, flags: {} }), ConfigError)
    await writeFile(file, '[1, 2]')
    await assert.rejects(loadConfig({ dataDir, configFile: file, env: {}, flags: {} }), /must hold a JSON object/)
  })
})
