import { mkdir } from 'node:fs/promises'
import { loadOrCreateIdentity } from '../identity/key-file.ts'
import { BootstrapKeeper } from '../discovery/bootstrap-keeper.ts'
import { DhtWalk } from '../discovery/dht-walk.ts'
import { ExposeRegistry } from '../expose/expose-registry.ts'
import { RepeatLimitedLog } from '../log/repeat-limit.ts'
import { ForwardManager } from '../forward/forward-manager.ts'
import { RelayStun } from '../nat/relay-stun.ts'
import { createMeshNode } from '../node/create-node.ts'
import { DEFAULT_VNI } from '../node/constants.ts'
import { checkDataDirPermissions } from '../state/data-dir-permissions.ts'
import { removeStaleTempFiles } from '../state/json-file.ts'
import { TrustStore } from '../trust/trust-store.ts'
import { TunnelAdmission } from '../tunnel/admission.ts'
import { TunnelMemoryBudget } from '../tunnel/memory-budget.ts'
import { MIN_STREAM_WINDOW_BYTES, STREAM_WINDOW_BYTES, TUNNEL_PROTOCOL, tunnelHandler, tunnelStreamLimit } from '../../protocols/tunnel/index.ts'
import { VERSION } from '../version.ts'
import { ControlServer } from './control-server.ts'
import { acquirePidLock, releasePidLock } from './pid-lock.ts'
import { controlRoutes } from './routes.ts'
import type { Config } from '../config/schema.ts'
import type { DataDir } from '../config/data-dir.ts'
import type { Logger } from '../log/logger.ts'
import type { MeshNode } from '../node/create-node.ts'

export interface DaemonInit {
  config: Config
  dataDir: DataDir
}

export interface DaemonComponents {
  log: Logger
}

/** What the daemon keeps in its data directory besides the key. */
interface DaemonState {
  trust: TrustStore
  exposes: ExposeRegistry
}

/**
 * Owns everything a running node is: the data directory's lock, the libp2p node, the
 * trust store, the exposed services and forwards, the discovery loops and the control
 * API. `start` undoes what it did if a step fails.
 */
export class Daemon {
  readonly node: MeshNode
  private readonly dataDir: DataDir
  private readonly control: ControlServer
  private readonly keeper: BootstrapKeeper
  private readonly walk: DhtWalk
  private readonly forwards: ForwardManager
  private readonly stun?: RelayStun
  private readonly memory: TunnelMemoryBudget

  private constructor (node: MeshNode, state: DaemonState, init: DaemonInit, components: DaemonComponents) {
    const { config, dataDir } = init
    const { log } = components
    const { trust, exposes } = state
    this.node = node
    this.dataDir = dataDir
    const memory = this.memory = new TunnelMemoryBudget({
      maxTotalBytes: config.tunnels.maxBufferedBytes,
      maxPerPeerBytes: config.tunnels.maxBufferedBytesPerPeer,
      windowBytes: STREAM_WINDOW_BYTES,
      minWindowBytes: MIN_STREAM_WINDOW_BYTES
    })
    const admission = new TunnelAdmission(config.tunnels, memory)
    // the lines a peer (or a local client) can cause once per tunnel
    const limitedLog = new RepeatLimitedLog(log, { burst: config.log.repeatBurst, windowMs: config.log.repeatWindowSeconds * 1000 })
    const streamLimit = tunnelStreamLimit(config.tunnels.maxPerPeer)
    node.handle(TUNNEL_PROTOCOL, tunnelHandler({ vni: DEFAULT_VNI, halfClosedIdleMs: config.tunnels.halfClosedIdleSeconds * 1000, stalledMs: config.tunnels.stalledSeconds * 1000 }, {
      isTrusted: peer => trust.isTrusted(peer),
      lookupService: name => exposes.lookup(name),
      admit: (peer, stream) => admission.admit(peer, stream),
      log: limitedLog
    }), { maxInboundStreams: streamLimit, maxOutboundStreams: streamLimit })
    this.forwards = new ForwardManager({
      file: dataDir.forwards,
      vni: DEFAULT_VNI,
      dialTimeoutMs: config.connections.dialTimeoutSeconds * 1000,
      maxOutboundStreams: streamLimit,
      halfClosedIdleMs: config.tunnels.halfClosedIdleSeconds * 1000,
      stalledMs: config.tunnels.stalledSeconds * 1000
    }, { node, trust, log, memory, failureLog: limitedLog })
    this.walk = new DhtWalk({ intervalSeconds: config.discovery.walkIntervalSeconds }, { node, log })
    this.keeper = new BootstrapKeeper({
      addresses: config.bootstrap,
      redialSeconds: config.discovery.bootstrapRedialSeconds,
      onConnect: () => { this.walk.walkSoon() }
    }, { node, log })
    if (config.relay.enabled && config.relay.stun) this.stun = new RelayStun(log)
    const context = { name: config.name, version: VERSION, dataDir: dataDir.root, startedAt: Date.now() }
    this.control = new ControlServer(dataDir.controlSocket, controlRoutes({ node, trust, exposes, forwards: this.forwards, stun: this.stun, memory }, context), { log })
  }

  static async start (init: DaemonInit, components: DaemonComponents): Promise<Daemon> {
    const { dataDir } = init
    await mkdir(dataDir.root, { recursive: true, mode: 0o700 })
    await checkDataDirPermissions(dataDir.root)
    await acquirePidLock(dataDir.pidFile, dataDir.root)
    const started: Array<() => Promise<void> | void> = [async () => releasePidLock(dataDir.pidFile)]
    try {
      const stale = await removeStaleTempFiles(dataDir.root)
      if (stale.length > 0) components.log.warn({ files: stale }, 'removed stale temporary files from the data directory')
      const key = await loadOrCreateIdentity(dataDir.identityKey)
      const state = { trust: await TrustStore.load(dataDir.trust), exposes: await ExposeRegistry.load(dataDir.services) }
      const node = await createMeshNode(init.config, key, { isTrusted: peer => state.trust.isTrusted(peer), log: components.log })
      const daemon = new Daemon(node, state, init, components)
      await node.start()
      started.unshift(async () => node.stop())
      await daemon.stun?.start(init.config.listen, node.getMultiaddrs())
      started.unshift(async () => daemon.stun?.stop())
      await daemon.forwards.start()
      started.unshift(async () => daemon.forwards.stop())
      await daemon.control.start()
      started.unshift(async () => daemon.control.stop())
      await daemon.keeper.start()
      daemon.walk.start()
      return daemon
    } catch (err) {
      for (const undo of started) await undo()
      throw err
    }
  }

  async stop (): Promise<void> {
    this.walk.stop()
    this.keeper.stop()
    await this.control.stop()
    // open tunnels would hold the forwards' listeners and the node's stop until they end on their own
    this.memory.abortAll('the daemon is stopping')
    await this.forwards.stop()
    await this.stun?.stop()
    await this.node.stop()
    await releasePidLock(this.dataDir.pidFile)
  }
}
