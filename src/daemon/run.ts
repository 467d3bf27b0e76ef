import { flushCompileCache } from 'node:module'
import { isLoopback } from '@libp2p/utils'
import { loadConfig } from '../config/load.ts'
import { createLogger } from '../log/logger.ts'
import { VERSION } from '../version.ts'
import { Daemon } from './daemon.ts'
import type { DataDir } from '../config/data-dir.ts'
import type { Logger } from '../log/logger.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/** How long a stop may take before the process exits anyway. */
const STOP_TIMEOUT_MS = 10_000

export interface RunDaemonOptions {
  dataDir: DataDir
  /** `--config FILE` */
  configFile?: string
  /** settings given as flags, in the shape of the config */
  flags: Record<string, any>
}

/**
 * `agentmesh start`: loads the config, starts the daemon, prints how others join, and
 * stops cleanly on SIGINT/SIGTERM.
 */
export async function runDaemon ({ dataDir, configFile, flags }: RunDaemonOptions): Promise<void> {
  const config = await loadConfig({ dataDir: dataDir.root, configFile, env: process.env, flags })
  const log = createLogger(config.log)
  const daemon = await Daemon.start({ config, dataDir }, { log })
  keepRunning(log)
  stopOnSignals(daemon, log)

  log.info({ peerId: daemon.node.peerId.toString(), dataDir: dataDir.root, version: VERSION }, 'agentmesh node started')
  process.stdout.write(`agentmesh ${VERSION}: node ${daemon.node.peerId} is up (data dir ${dataDir.root})\n`)
  process.stdout.write(`${config.bootstrap.length === 0 ? 'this is the first node of a new mesh; others join' : 'others can join'} with:\n`)
  process.stdout.write(`  npm start -- --bootstrap ${joinAddress(daemon.node.getMultiaddrs()) ?? '<no address: check --listen>'}\n`)
  // the modules loaded so far go into the compile cache now (src/cli/agentmesh.js), not only when a daemon exits cleanly
  flushCompileCache()
}

/** The address others are most likely to reach: not loopback, IPv4 first. */
function joinAddress (addresses: Multiaddr[]): string | undefined {
  const rank = (address: Multiaddr): number => (isLoopback(address) ? 2 : 0) + (address.toString().startsWith('/ip6/') ? 1 : 0)
  return [...addresses].sort((a, b) => rank(a) - rank(b))[0]?.toString()
}

/** A fault in one connection is logged, never allowed to take the daemon down. */
function keepRunning (log: Logger): void {
  process.on('uncaughtException', err => { log.error({ err }, 'uncaught exception') })
  process.on('unhandledRejection', err => { log.error({ err }, 'unhandled rejection') })
}

function stopOnSignals (daemon: Daemon, log: Logger): void {
  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn(`${signal} again: exiting without a clean stop`)
      process.exit(1)
    }
    stopping = true
    log.info(`${signal}: stopping`)
    setTimeout(() => {
      log.error(`stop took over ${STOP_TIMEOUT_MS} ms: exiting`)
      process.exit(1)
    }, STOP_TIMEOUT_MS).unref()
    daemon.stop().then(() => {
      log.info('stopped')
      process.exit(0)
    }, err => {
      log.error({ err }, 'stop failed')
      process.exit(1)
    })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
