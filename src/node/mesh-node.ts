import type { AddressView } from './address-view.ts'
import type { DirectPaths } from '../nat/direct-paths.ts'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'

/** The services of the node create-node.ts composes, as the rest of the daemon uses them. */
export type MeshServices = {
  identify: Identify
  ping: Ping
  autonat: unknown
  dht: KadDHT
  addresses: AddressView
  relay?: CircuitRelayService
  directPaths?: DirectPaths
}

export type MeshNode = Libp2p<MeshServices>
