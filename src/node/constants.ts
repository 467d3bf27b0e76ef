/**
 * The mesh's own Kademlia protocol: a private id keeps agentmesh nodes out of the
 * public IPFS DHT (`/ipfs/kad/1.0.0`) and the public DHT out of the mesh.
 */
export const DHT_PROTOCOL = '/agentmesh/kad/1.0.0'

/** The autonat protocol prefix, private for the same reason. */
export const AUTONAT_PROTOCOL_PREFIX = 'agentmesh'

/** The VNI of tunnels between allowlisted peers (`trust add`); networks take the others. */
export const ALLOWLIST_VNI = 0
