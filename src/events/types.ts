/** A peer's path: the connection new tunnels to it take (as in `agentmesh peers`). */
export interface PathView {
  connection: 'direct' | 'relayed'
  /** `tcp`, `webrtc`, `relay`, ... */
  transport: string
}

/**
 * Every event kind and the fields it carries besides `seq`, `time` and `type`. Adding a
 * kind is one line here (and a row in the README's table); `emit` type-checks its fields.
 */
export interface MeshEventFields {
  'peer.connected': { peer: string } & PathView
  'peer.disconnected': { peer: string }
  'path.changed': { peer: string, from: PathView, to: PathView }
  'reservation.gained': { relay: string }
  'reservation.lost': { relay: string }
  /** this node refused a tunnel a peer opened to it (`service` is absent when the request was not read) */
  'tunnel.refused': { peer: string, service?: string, kind: string, reason: string }
  /** a connection to a local forward failed: refused by the peer, unreachable, or cut */
  'tunnel.failed': { listen: string, peer: string, service: string, kind: string, reason: string }
  'trust.changed': { peer: string, change: 'added' | 'updated' | 'removed', name?: string, groups?: string[] }
  /** a network joined or created here, a member verified or refused (once per peer and outcome), a member cut off, a newer revocation list, a renewed certificate */
  'membership.changed': { change: MembershipChange, network: string, peer?: string, name?: string, groups?: string[], version?: number, reason?: string }
  /** a subscriber that fell behind lost `count` events just before this one */
  'events.dropped': { count: number }
}

export type MembershipChange = 'network.created' | 'network.joined' | 'member.verified' | 'member.refused' | 'member.removed' | 'revocations.updated' | 'certificate.renewed'

export type MeshEventType = keyof MeshEventFields

/** One event as it is streamed and posted: `{ "seq", "time", "type", ...fields }`. */
export type MeshEvent<T extends MeshEventType = MeshEventType> = {
  [K in T]: { seq: number, time: string, type: K } & MeshEventFields[K]
}[T]
