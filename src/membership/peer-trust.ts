import { ALLOWLIST_VNI } from '../node/constants.ts'
import type { Membership } from './membership.ts'
import type { TrustStore } from '../trust/trust-store.ts'
import type { PeerId } from '@libp2p/interface'

export interface PeerTrustComponents {
  trust: TrustStore
  membership: Membership
}

/**
 * Whom this node trusts: the allowlist (`trust add`, the simplest mode) and the members
 * of its networks (certificates verified over the membership protocol). Nothing a remote
 * peer sends adds to either: only the control API changes the allowlist and the networks.
 */
export class PeerTrust {
  private readonly trust: TrustStore
  private readonly membership: Membership

  constructor (components: PeerTrustComponents) {
    this.trust = components.trust
    this.membership = components.membership
  }

  /** Allowlisted, or a member of one of this node's networks. */
  isTrusted (peer: PeerId): boolean {
    return this.trust.isTrusted(peer) || this.membership.isMember(peer)
  }

  /** Revoked in a network of this node and trusted in no other way: its connections are refused. */
  isBanned (peer: PeerId): boolean {
    return this.membership.isRevoked(peer) && !this.trust.isTrusted(peer)
  }

  /** The peer id a name stands for, from what this node knows: an allowlisted peer's name, else a member's certificate name. */
  resolvePeerLocally (nameOrPeerId: string): string | undefined {
    return this.trust.resolve(nameOrPeerId)?.peerId ?? this.membership.resolveName(nameOrPeerId)?.toString()
  }

  /** The VNI of a tunnel to `peer`: the named network, else the first network both are in, else the allowlist's. */
  vniFor (peer: PeerId, networkName?: string): number | undefined {
    const memberships = this.membership.membershipsOf(peer)
    if (networkName != null) return memberships.find(({ network }) => network.name === networkName)?.network.vni
    return memberships[0]?.network.vni ?? (this.trust.isTrusted(peer) ? ALLOWLIST_VNI : undefined)
  }

  /** The name and groups a peer is known by: from its certificates, else from the allowlist. */
  describe (peer: PeerId): { name?: string, groups: string[], networks: string[] } {
    const memberships = this.membership.membershipsOf(peer)
    const allowlisted = this.trust.get(peer.toString())
    const name = memberships[0]?.certificate.name ?? allowlisted?.name
    return {
      ...(name != null && { name }),
      groups: [...new Set([...memberships.flatMap(({ certificate }) => certificate.groups), ...(allowlisted?.groups ?? [])])],
      networks: memberships.map(({ network }) => network.name)
    }
  }
}
