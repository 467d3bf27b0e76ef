import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { autoNATv2 } from '@libp2p/autonat-v2'
import { identify, identifyPush } from '@libp2p/identify'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { peerIdFromString } from '@libp2p/peer-id'
import { createLibp2p } from 'libp2p'
import { MAX_READ_BUFFER_BYTES, STREAM_CHUNK_BYTES, STREAM_WINDOW_BYTES, tunnelStreamLimit } from '../../protocols/tunnel/index.ts'
import { USER_AGENT } from '../version.ts'
import { dialOrder } from '../addresses/dial-order.ts'
import { meshScope } from '../addresses/mesh-scope.ts'
import { relaysOf } from '../addresses/reachability.ts'
import { isTcp } from '../addresses/transport-name.ts'
import { directPaths } from '../nat/direct-paths.ts'
import { iceServers } from '../nat/ice-servers.ts'
import { lazyWebRTC } from '../nat/lazy-webrtc.ts'
import { decideLimitsPerCircuit, relayGater, relayServer } from '../nat/relay-policy.ts'
import { REVOCATIONS_DHT_NAMESPACE, selectRevocationsRecord, validateRevocationsRecord } from '../../protocols/membership/index.ts'
import {
  CAPABILITY_RECORD_DHT_NAMESPACE, MEMBER_RECORD_DHT_NAMESPACE, selectCapabilityRecord, selectMemberRecord, validateCapabilityRecord,
  validateMemberRecord
} from '../../protocols/records/index.ts'
import { relayReservations } from '../nat/relay-reservations.ts'
import { ReservationSlots } from '../nat/reservation-slots.ts'
import { addressView } from './address-view.ts'
import { coalescingTcpWrites } from './patches/coalescing-tcp-writes.ts'
import { AUTONAT_PROTOCOL_PREFIX, DHT_PROTOCOL } from './constants.ts'
import { lazyTls } from './lazy-tls.ts'
import { libp2pLogger } from './libp2p-logger.ts'
import { noiseCrypto } from './noise-crypto.ts'
import { optimisticSelect } from './patches/optimistic-select.ts'
import { pendingPerHost } from './pending-per-host.ts'
import { capYamuxFrames } from './patches/yamux-frame-size.ts'
import { holdBackWindowUpdates } from './patches/yamux-window-updates.ts'
import type { Config } from '../config/schema.ts'
import type { Logger } from '../log/logger.ts'
import type { IsTrusted } from '../nat/relay-policy.ts'
import type { MeshNode } from './mesh-node.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Registry } from 'prom-client'

export interface MeshNodeComponents {
  /** whose relayed connections a `--relay` node carries without limits: allowlisted peers and members */
  isTrusted: IsTrusted
  /** peers whose connections are refused both ways: revoked members (none by default) */
  isBanned?: IsTrusted
  log: Logger
  /** with metrics on (`metrics.listen`): where libp2p's own metrics go */
  metricsRegistry?: Registry
}

/** The one place that composes libp2p; everything else receives the node it returns. */
export async function createMeshNode (config: Config, privateKey: PrivateKey, { isTrusted, isBanned = () => false, log, metricsRegistry }: MeshNodeComponents): Promise<MeshNode> {
  holdBackWindowUpdates()
  capYamuxFrames(STREAM_CHUNK_BYTES)
  const scope = meshScope(config.bootstrap)
  // who may hold a reservation on this node as a relay
  const slots = new ReservationSlots(config.relay, isTrusted)
  // read when a WebRTC connection starts, by which time the node exists
  let node: MeshNode | undefined
  const rtcConfiguration = (): { iceServers: Array<{ urls: string }> } => ({
    iceServers: iceServers(config.nat.iceServers, node == null ? [] : relayAddresses(node))
  })
  node = await createLibp2p({
    privateKey,
    logger: libp2pLogger,
    start: false,
    nodeInfo: { userAgent: USER_AGENT },
    // >= 5.0.13: earlier releases could swallow a stream's first frames (js-libp2p #3393), the envelope among them
    ...(metricsRegistry != null && { metrics: prometheusMetrics({ registry: metricsRegistry, preserveExistingMetrics: true }) }),
    addresses: {
      // `/webrtc` accepts WebRTC connections signalled over this node's relayed addresses
      listen: config.nat.holePunching ? [...config.listen, '/webrtc'] : config.listen,
      announce: config.announce
    },
    transports: [
      tcp(),
      circuitRelayTransport(),
      ...(config.nat.holePunching ? [lazyWebRTC({ rtcConfiguration })] : [])
    ],
    connectionEncrypters: config.connections.encryption.map(name => coalescingTcpWrites(ENCRYPTERS[name]())),
    streamMuxers: [optimisticSelect(yamux({
      // every tunnelled TCP connection is a stream: room for the tunnel protocol's limit plus the node's own protocols
      maxInboundStreams: tunnelStreamLimit(config.tunnels.maxPerPeer) + 256,
      maxOutboundStreams: tunnelStreamLimit(config.tunnels.maxPerPeer) + 256,
      streamOptions: { maxStreamWindowSize: STREAM_WINDOW_BYTES, maxReadBufferLength: MAX_READ_BUFFER_BYTES }
    }))],
    connectionManager: {
      maxConnections: config.connections.max,
      inboundConnectionThreshold: config.connections.inboundPerSecondPerHost,
      maxIncomingPendingConnections: config.connections.maxIncomingPending,
      // noise and the muxer negotiation of an inbound connection, before it is authenticated
      inboundUpgradeTimeout: config.connections.handshakeTimeoutSeconds * 1000,
      dialTimeout: config.connections.dialTimeoutSeconds * 1000,
      addressSorter: dialOrder
    },
    connectionGater: slots.gater({
      ...relayGater(config.relay, isTrusted),
      ...pendingPerHost({ maxPerHost: config.connections.maxIncomingPendingPerHost }),
      denyDialPeer: async peer => isBanned(peer),
      denyInboundEncryptedConnection: async peer => isBanned(peer)
    }),
    services: {
      identify: identify(),
      // tells connected peers (the DHT servers among them) of new addresses, such as a reservation's /p2p-circuit address
      identifyPush: identifyPush(),
      ping: ping(),
      // v2: its dial-back opens a new connection (v1 reuses and then closes the existing one)
      autonat: autoNATv2({ protocolPrefix: AUTONAT_PROTOCOL_PREFIX }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        // a relay is public infrastructure: it serves the DHT from the start
        clientMode: dhtClientMode(config.dht.mode, scope === 'lan' || config.relay.enabled),
        peerInfoMapper: scope === 'lan' ? passthroughMapper : removePrivateAddressesMapper,
        // networks' revocation lists, members' records and their capability records: any DHT server checks their
        // signatures (SPEC.md of protocols/membership and protocols/records), and the highest version or sequence wins
        validators: {
          [REVOCATIONS_DHT_NAMESPACE]: validateRevocationsRecord,
          [MEMBER_RECORD_DHT_NAMESPACE]: async (key, value) => validateMemberRecord(key, value),
          [CAPABILITY_RECORD_DHT_NAMESPACE]: async (key, value) => validateCapabilityRecord(key, value)
        },
        selectors: { [REVOCATIONS_DHT_NAMESPACE]: selectRevocationsRecord, [MEMBER_RECORD_DHT_NAMESPACE]: selectMemberRecord, [CAPABILITY_RECORD_DHT_NAMESPACE]: selectCapabilityRecord }
      }),
      addresses: addressView(),
      // a relay is reached directly, so it holds no reservations itself
      relayReservations: relayReservations({ want: config.relay.enabled ? 0 : config.nat.reservations, log }),
      ...(config.nat.holePunching && { directPaths: directPaths({ log }) }),
      ...(config.relay.enabled && { relay: relayServer(config.relay) })
    }
  })
  if (node.services.relay != null) {
    decideLimitsPerCircuit(node.services.relay, isTrusted)
    slots.attach(node, node.services.relay)
  }
  return node
}

/**
 * The connection encrypters by name, offered in the order `connections.encryption` gives
 * (noise, then TLS 1.3, by default); multistream-select takes the next after a peer's `na`.
 * Noise leads because it measured faster end to end here: its cipher already runs in
 * OpenSSL (noise-crypto.ts), while @libp2p/tls runs OpenSSL's TLS over a JavaScript
 * duplex, one layer more per read and write (README, Benchmarks). TLS 1.3 is offered for
 * peers that speak only TLS.
 */
const ENCRYPTERS = {
  tls: () => lazyTls(),
  noise: () => noise({ crypto: noiseCrypto })
} satisfies Record<Config['connections']['encryption'][number], unknown>

/** The addresses this node reaches the relays holding its reservations on (over TCP, as it reserved). */
function relayAddresses (node: MeshNode): Multiaddr[] {
  return relaysOf(node.services.addresses.addresses()).flatMap(relay =>
    node.getConnections(peerIdFromString(relay)).filter(isTcp).map(connection => connection.remoteAddr))
}

/** `undefined` lets kad-dht switch to server mode once the node has a public address. */
function dhtClientMode (mode: Config['dht']['mode'], serveAlways: boolean): boolean | undefined {
  if (mode === 'server' || (mode === 'auto' && serveAlways)) return false
  if (mode === 'client') return true
  return undefined
}
