import type { PeerId } from '@libp2p/interface'

export type Role = 'member' | 'relay' | 'admin'

/** What an admin signs for a member: who it is in which network, until when. */
export interface CertificateFields {
  networkName: string
  /** The network's raw 32-byte Ed25519 public key. */
  networkKey: Uint8Array
  /** The network's VNI, 1 to 0xFFFFFF. */
  vni: number
  peerId: PeerId
  name: string
  groups: string[]
  role: Role
  /** Unix seconds. */
  notBefore: number
  /** Unix seconds, after notBefore. */
  notAfter: number
  /** 1 to 2^64 - 1, unique per network key. */
  serial: bigint
}

export interface Certificate extends CertificateFields {
  signature: Uint8Array
  /** The exact encoding, signature included. */
  bytes: Uint8Array
}

export interface VerifyOptions {
  /** Unix seconds. */
  now: number
  /** When given, must equal the certificate's network key. */
  networkKey?: Uint8Array
  /** When given, must equal the certificate's peer id: the authenticated remote peer. */
  peer?: PeerId
  /** The network's newest verified revocation list. */
  revocations?: RevocationList
}

export interface RevocationEntry {
  peerId: PeerId
  /** 0n revokes every certificate of the peer id. */
  serial: bigint
}

export interface RevocationListFields {
  networkKey: Uint8Array
  /** u64: a newer list has a higher version. */
  version: bigint
  entries: RevocationEntry[]
}

export interface RevocationList extends RevocationListFields {
  signature: Uint8Array
  bytes: Uint8Array
}

export interface Invite {
  certificate: Certificate
  /** Multiaddrs of the inviter, each ending /p2p/<inviter>. */
  addresses: string[]
}

export type MembershipMessage =
  | { type: 'hello', certificates: Certificate[], revocations: RevocationList[] }
  | { type: 'revocations', lists: RevocationList[] }
  | { type: 'certificate', certificate: Certificate }
