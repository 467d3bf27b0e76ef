/**
 * The mesh's own Kademlia protocol: a private id keeps agentmesh nodes out of the
 * public IPFS DHT (`/ipfs/kad/1.0.0`) and the public DHT out of the mesh.
 */
export const DHT_PROTOCOL = '/agentmesh/kad/1.0.0'

/** The autonat protocol prefix, private for the same reason. */
export const AUTONAT_PROTOCOL_PREFIX = 'agentmesh'

/** The virtual network a node serves until network membership assigns one. */
export const DEFAULT_VNI = 0
