import { createHash } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'

/** The block virtual addresses are taken from: 127.77.0.0/16, on the loopback interface, which Linux routes whole (no root, no interface to add). */
export const VIRTUAL_PREFIX = '127.77'
/** Addresses a block holds, leaving out 127.77.0.0 and 127.77.255.255. */
const SLOTS = 65_534
/** How many candidates a peer is offered before the block counts as full (it never is in practice: 65,534 slots). */
const MAX_PROBES = 64

/**
 * The stable loopback address of a member: SHA-256 of its peer id's multihash (and a
 * probe counter after a collision) picks one of the 65,534 addresses of 127.77.0.0/16.
 * The same peer gets the same address on every node that has no collision for it, and
 * always the same one on a node (its choice is kept in the data directory).
 */
export function loopbackAddress (peer: PeerId, taken: (address: string) => boolean): string {
  const multihash = peer.toMultihash().bytes
  for (let probe = 0; probe < MAX_PROBES; probe++) {
    const digest = createHash('sha256').update(multihash).update(probe === 0 ? Buffer.alloc(0) : Buffer.of(probe)).digest()
    const slot = (digest.readUInt16BE(0) % SLOTS) + 1
    const address = `${VIRTUAL_PREFIX}.${slot >> 8}.${slot & 0xff}`
    if (!taken(address)) return address
  }
  throw new Error(`no free address in ${VIRTUAL_PREFIX}.0.0/16 for ${peer} after ${MAX_PROBES} tries: unmap some members`)
}
