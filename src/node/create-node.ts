import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { autoNAT } from '@libp2p/autonat'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { MAX_READ_BUFFER_BYTES, STREAM_WINDOW_BYTES, tunnelStreamLimit } from '../../protocols/tunnel/index.ts'
import { USER_AGENT } from '../version.ts'
import { addressView } from './address-view.ts'
import { AUTONAT_PROTOCOL_PREFIX, DHT_PROTOCOL } from './constants.ts'
import { meshScope } from './mesh-scope.ts'
import type { AddressView } from './address-view.ts'
import type { Config } from '../config/schema.ts'
import type { Identify } from '@libp2p/identify'
import type { PrivateKey, Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'

export type MeshServices = {
  identify: Identify
  ping: Ping
  autonat: unknown
  dht: KadDHT
  addresses: AddressView
}

export type MeshNode = Libp2p<MeshServices>

/** The one place that composes libp2p; everything else receives the node it returns. */
export async function createMeshNode (config: Config, privateKey: PrivateKey): Promise<MeshNode> {
  const scope = meshScope(config.bootstrap)
  return createLibp2p({
    privateKey,
    start: false,
    nodeInfo: { userAgent: USER_AGENT },
    addresses: {
      listen: config.listen,
      announce: config.announce
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({
      // every tunnelled TCP connection is a stream: room for the tunnel protocol's limit plus the node's own protocols
      maxInboundStreams: tunnelStreamLimit(config.tunnels.maxPerPeer) + 256,
      maxOutboundStreams: tunnelStreamLimit(config.tunnels.maxPerPeer) + 256,
      streamOptions: { maxStreamWindowSize: STREAM_WINDOW_BYTES, maxReadBufferLength: MAX_READ_BUFFER_BYTES }
    })],
    connectionManager: {
      maxConnections: config.connections.max,
      inboundConnectionThreshold: config.connections.inboundPerSecondPerHost,
      maxIncomingPendingConnections: config.connections.maxIncomingPending,
      dialTimeout: config.connections.dialTimeoutSeconds * 1000
    },
    services: {
      identify: identify(),
      ping: ping(),
      autonat: autoNAT({ protocolPrefix: AUTONAT_PROTOCOL_PREFIX }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: dhtClientMode(config.dht.mode, scope === 'lan'),
        peerInfoMapper: scope === 'lan' ? passthroughMapper : removePrivateAddressesMapper
      }),
      addresses: addressView()
    }
  })
}

/** `undefined` lets kad-dht switch to server mode once the node has a public address. */
function dhtClientMode (mode: Config['dht']['mode'], lan: boolean): boolean | undefined {
  if (mode === 'server' || (mode === 'auto' && lan)) return false
  if (mode === 'client') return true
  return undefined
}
