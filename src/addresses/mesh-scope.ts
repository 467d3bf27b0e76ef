import { multiaddr } from '@multiformats/multiaddr'
import { isPrivate } from '@libp2p/utils'

/**
 * A mesh started without bootstrap nodes, or joined only through private or loopback
 * addresses, lives on a LAN (or in a test): its members reach each other on private
 * addresses, so every node serves the DHT and private addresses are kept in DHT records.
 * An internet mesh leaves DHT server mode to reachability (a verified public address)
 * and strips private addresses from DHT records, where they mean nothing to others.
 */
export type MeshScope = 'lan' | 'internet'

export function meshScope (bootstrap: string[]): MeshScope {
  return bootstrap.every(address => isPrivate(multiaddr(address))) ? 'lan' : 'internet'
}
