/**
 * Several agentmesh daemons in one Node process, for meshes larger than this machine can
 * run as one process per daemon (test/helpers/daemon-host.ts starts it). Each daemon is
 * the one `agentmesh start` composes: its own data directory, identity, libp2p node,
 * control socket and metrics registry; only the process, its heap and its stderr are
 * shared, and each log line names its daemon's data directory.
 *
 * argv[2]: JSON `[{ "dataDir": "...", "flags": { ...config-shaped settings } }, ...]`.
 * Prints `ready <dataDir>` as each daemon answers, stops them all on SIGTERM.
 */
import { resolveDataDir } from '../../src/config/data-dir.ts'
import { loadConfig } from '../../src/config/load.ts'
import { Daemon } from '../../src/daemon/daemon.ts'
import { createLogger } from '../../src/log/logger.ts'

interface HostedDaemon {
  dataDir: string
  flags: Record<string, any>
}

const hosted = JSON.parse(process.argv[2] ?? '[]') as HostedDaemon[]
const daemons: Daemon[] = []
let stopping = false

process.on('SIGTERM', () => {
  if (stopping) return
  stopping = true
  Promise.allSettled(daemons.map(async daemon => daemon.stop())).then(() => process.exit(0), () => process.exit(1))
})

// one after another: the control server sets the process umask while it binds its socket
for (const { dataDir, flags } of hosted) {
  if (stopping) break
  const config = await loadConfig({ dataDir, env: {}, flags })
  const log = createLogger(config.log).child({ dataDir })
  daemons.push(await Daemon.start({ config, dataDir: resolveDataDir(dataDir, {}) }, { log }))
  process.stdout.write(`ready ${dataDir}\n`)
}
