import { mkdir } from 'node:fs/promises'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from '../identity/key-file.ts'
import { AgentProxy } from '../agents/agent-proxy.ts'
import { BootstrapKeeper } from '../discovery/bootstrap-keeper.ts'
import { DhtWalk } from '../discovery/dht-walk.ts'
import { ServiceRegistry } from '../expose/service-registry.ts'
import { Grants } from '../expose/grants.ts'
import { RepeatLimitedLog } from '../log/repeat-limit.ts'
import { ForwardManager } from '../forward/forward-manager.ts'
import { Membership } from '../membership/membership.ts'
import { MembershipService } from '../membership/membership-service.ts'
import { PeerTrust } from '../membership/peer-trust.ts'
import { RelayStun } from '../nat/relay-stun.ts'
import { RecordPublisher } from '../records/record-publisher.ts'
import { Resolver } from '../records/resolver.ts'
import { ServiceFinder } from '../records/service-finder.ts'
import { AgentFinder } from '../records/agent-finder.ts'
import { MapManager } from '../vaddr/map-manager.ts'
import { MAX_STREAMS as MAX_SERVICES_STREAMS } from '../../protocols/services/constants.ts'
import { SERVICES_PROTOCOL, servicesHandler } from '../../protocols/services/index.ts'
import { createMeshNode } from '../node/create-node.ts'
import { ALLOWLIST_VNI } from '../node/constants.ts'
import { checkDataDirPermissions } from '../state/data-dir-permissions.ts'
import { removeStaleTempFiles } from '../state/json-file.ts'
import { TrustStore } from '../trust/trust-store.ts'
import { TunnelAdmission } from './tunnel-admission.ts'
import { TunnelMemoryBudget } from './tunnel-memory-budget.ts'
import { MIN_STREAM_WINDOW_BYTES, STREAM_WINDOW_BYTES, TUNNEL_PROTOCOL, tunnelHandler, tunnelStreamLimit } from '../../protocols/tunnel/index.ts'
import { VERSION } from '../version.ts'
import { ControlServer } from './control-server.ts'
import { Observability } from './observability.ts'
import { acquirePidLock, releasePidLock } from './pid-lock.ts'
import { controlRoutes } from './routes.ts'
import type { Config } from '../config/schema.ts'
import type { DataDir } from '../config/data-dir.ts'
import type { Logger } from '../log/logger.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { MapRecord } from '../control/api.ts'
import type { PrivateKey } from '@libp2p/interface'

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
  services: ServiceRegistry
  membership: Membership
  peers: PeerTrust
  /** this node's identity key: it signs its member records */
  privateKey: PrivateKey
  maps: MapRecord[]
  observe: Observability
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
  private readonly members: MembershipService
  private readonly publisher: RecordPublisher
  private readonly resolver: Resolver
  private readonly finder: ServiceFinder
  private readonly maps: MapManager
  private readonly stun?: RelayStun
  private readonly observe: Observability
  private readonly memory: TunnelMemoryBudget
  private readonly agents: AgentProxy

  private constructor (node: MeshNode, state: DaemonState, init: DaemonInit, components: DaemonComponents) {
    const { config, dataDir } = init
    const { log } = components
    const { trust, services, membership, peers, privateKey, observe } = state
    this.node = node
    this.observe = observe
    this.dataDir = dataDir
    this.members = new MembershipService({
      node,
      membership,
      peers,
      log,
      events: observe.events,
      handshakeOutcome: outcome => { observe.metrics?.handshake(outcome) }
    })
    this.publisher = new RecordPublisher({ node, privateKey, membership, services, log })
    this.resolver = new Resolver({ node, membership, log })
    this.finder = new ServiceFinder({ node, membership, members: this.members, resolver: this.resolver, log })
    const memory = this.memory = new TunnelMemoryBudget({
      maxTotalBytes: config.tunnels.maxBufferedBytes,
      maxPerPeerBytes: config.tunnels.maxBufferedBytesPerPeer,
      windowBytes: STREAM_WINDOW_BYTES,
      minWindowBytes: MIN_STREAM_WINDOW_BYTES
    })
    const admission = new TunnelAdmission({ memory }, config.tunnels)
    // the lines a peer (or a local client) can cause once per tunnel
    const limitedLog = new RepeatLimitedLog(log, { burst: config.log.repeatBurst, windowMs: config.log.repeatWindowSeconds * 1000 })
    this.agents = new AgentProxy({ log }, { socketPath: dataDir.agentsSocket })
    const grants = new Grants({ self: node.peerId, membership, trust, agents: this.agents })
    const streamLimit = tunnelStreamLimit(config.tunnels.maxPerPeer)
    node.handle(TUNNEL_PROTOCOL, tunnelHandler({ halfClosedIdleMs: config.tunnels.halfClosedIdleSeconds * 1000, stalledMs: config.tunnels.stalledSeconds * 1000 }, {
      admitsTunnelsFrom: (peer, connection) => this.members.admitsTunnelsFrom(peer, connection),
      servesNetwork: vni => vni === ALLOWLIST_VNI || membership.byVni(vni) != null,
      lookupService: name => services.lookup(name),
      authorize: (peer, vni, service) => grants.authorize(peer, vni, service),
      admit: (peer, stream) => admission.admit(peer, stream),
      log: limitedLog,
      refused: refusal => { observe.events.emit('tunnel.refused', refusal) }
    }), { maxInboundStreams: streamLimit, maxOutboundStreams: streamLimit })
    node.handle(SERVICES_PROTOCOL, servicesHandler({
      answer: async (peer, connection, { vni }) => {
        if (!await this.members.admitsTunnelsFrom(peer, connection)) return undefined
        const network = membership.byVni(vni)
        if (vni !== ALLOWLIST_VNI && (network == null || membership.certificateOf(peer, network) == null)) return undefined
        const usable = services.exposed()
          .filter(service => !('refuse' in grants.admits(peer, vni, service)))
          .map(({ name, proto, port }) => ({ name, proto, port }))
        return { record: network == null ? new Uint8Array(0) : (await this.publisher.recordOf(network)).bytes, usable }
      },
      log
    }), { maxInboundStreams: MAX_SERVICES_STREAMS, maxOutboundStreams: MAX_SERVICES_STREAMS })
    this.forwards = new ForwardManager({
      node,
      access: {
        resolvePeer: async (name, network) => peers.resolvePeerLocally(name) ?? this.resolver.peerOf(name, { network }),
        providers: async (service, network) => (await this.finder.providers(service, { network })).map(provider => provider.peerId),
        providerFailed: (service, network, peer) => { this.finder.failed(service, network, peer) },
        verify: async (peer, options) => this.members.verify(peer, options),
        vniFor: (peer, network) => peers.vniFor(peer, network)
      },
      log,
      tunnelObserver: observe.tunnelObserver,
      events: observe.events,
      memory,
      failureLog: limitedLog
    }, {
      file: dataDir.forwards,
      dialTimeoutMs: config.connections.dialTimeoutSeconds * 1000,
      maxOutboundStreams: streamLimit,
      halfClosedIdleMs: config.tunnels.halfClosedIdleSeconds * 1000,
      stalledMs: config.tunnels.stalledSeconds * 1000
    })
    this.maps = new MapManager({
      forwards: this.forwards, finder: this.finder, resolver: this.resolver, members: this.members, membership, peers, log
    }, { file: dataDir.maps, records: state.maps })
    this.walk = new DhtWalk({ node, log }, { intervalSeconds: config.discovery.walkIntervalSeconds })
    this.keeper = new BootstrapKeeper({ node, log }, {
      // the addresses of the tokens this node joined with count as bootstrap nodes too
      addresses: [...new Set([...config.bootstrap, ...membership.networks().flatMap(network => network.bootstrap)])],
      redialSeconds: config.discovery.bootstrapRedialSeconds,
      onConnect: () => {
        this.walk.walkSoon()
        // a member back from offline asks the DHT for revocations made meanwhile
        this.members.refreshFromDhtSoon()
        this.publisher.publishSoon()
      }
    })
    if (config.relay.enabled && config.relay.stun) this.stun = new RelayStun({ log })
    const context = { name: config.name, version: VERSION, dataDir: dataDir.root, startedAt: Date.now() }
    // the dashboard shows what the control API's `status` and `peers` answer
    const ui = observe.dashboard({ node, services, forwards: this.forwards, routes: () => routes })
    const routes = controlRoutes({
      node,
      trust,
      services,
      forwards: this.forwards,
      membership,
      members: this.members,
      peers,
      keeper: this.keeper,
      publisher: this.publisher,
      resolver: this.resolver,
      finder: this.finder,
      agents: new AgentFinder({ node, membership, finder: this.finder, log }),
      maps: this.maps,
      stun: this.stun,
      events: observe.events,
      ui,
      memory
    }, context)
    this.control = new ControlServer({ log }, { socketPath: dataDir.controlSocket, routes })
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
      const observe = new Observability(components, init.config)
      const trust = await TrustStore.load(dataDir.trust)
      const membership = await Membership.load({ file: dataDir.networks, keysDir: dataDir.networkKeys, self: peerIdFromPrivateKey(key) })
      const peers = new PeerTrust({ trust, membership })
      const state = {
        trust,
        services: await ServiceRegistry.load(dataDir.services, observe.tunnelObserver),
        membership,
        peers,
        privateKey: key,
        maps: await MapManager.readRecords(dataDir.maps),
        observe
      }
      const node = await createMeshNode(init.config, key, {
        isTrusted: peer => peers.isTrusted(peer),
        isBanned: peer => peers.isBanned(peer),
        log: components.log,
        metricsRegistry: observe.metricsRegistry
      })
      const daemon = new Daemon(node, state, init, components)
      await node.start()
      started.unshift(async () => node.stop())
      await observe.start(node, trust)
      started.unshift(async () => observe.stop())
      await daemon.members.start()
      started.unshift(async () => { daemon.members.stop() })
      daemon.publisher.start()
      started.unshift(async () => { daemon.publisher.stop() })
      await daemon.stun?.start(init.config.listen, node.getMultiaddrs())
      started.unshift(async () => daemon.stun?.stop())
      await daemon.agents.start()
      started.unshift(async () => daemon.agents.stop())
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
    this.members.stop()
    this.publisher.stop()
    await this.control.stop()
    // open tunnels would hold the forwards' listeners and the node's stop until they end on their own
    this.memory.abortAll('the daemon is stopping')
    await this.forwards.stop()
    await this.agents.stop()
    await this.stun?.stop()
    await this.observe.stop()
    await this.node.stop()
    await releasePidLock(this.dataDir.pidFile)
  }
}
