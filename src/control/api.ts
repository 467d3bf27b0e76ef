/**
 * The control API's documents: what each call takes and answers, which is also what
 * `--json` prints (README, "Commands"). The daemon builds these, the CLI reads them
 * through ControlClient; neither side declares them again.
 */
import type { Reachability } from '../addresses/reachability.ts'
import type { AgentInfo } from '../agents/agent-info.ts'
import type { Role } from '../../protocols/membership/index.ts'
import type { AgentKind, AgentSkill, PublishedService } from '../../protocols/records/index.ts'

export type { MeshEvent } from '../events/types.ts'

/** `--proto`: the inner protocol a service speaks, carried in each tunnel's envelope */
export const SERVICE_PROTOCOLS = ['tcp', 'http', 'grpc', 'ssh'] as const
export type ServiceProtocol = typeof SERVICE_PROTOCOLS[number]

/** `GET /id` */
export interface IdView {
  peerId: string
  addresses: string[]
}

/** `GET /status` */
export interface StatusView extends IdView {
  name: string | null
  version: string
  pid: number
  dataDir: string
  uptimeSeconds: number
  reachability: Reachability
  dhtMode: 'client' | 'server'
  relays: string[]
  /** what this node does as a relay (`--relay`), null when it is not one */
  relayService: { reservations: number, stun: string[] } | null
  services: string[]
  forwards: string[]
  /** the networks this node is a member of */
  networks: string[]
  /** connected peers */
  peers: number
  /** peers in the peer store, connected or not */
  knownPeers: number
  /** present when the daemon keeps a tunnel memory budget */
  tunnelBuffers?: TunnelBuffersView
}

/** The bytes tunnels buffer now, the most seen since start, the budget (`tunnels.maxBufferedBytes`) and tunnels reset to keep within it. */
export interface TunnelBuffersView {
  bufferedBytes: number
  peakBytes: number
  budgetBytes: number
  resets: number
}

/** One of `GET /peers` */
export interface PeerView {
  peerId: string
  /** its name: from its certificate, else the one it is allowlisted under */
  name?: string
  /** the networks in which it holds a valid certificate */
  networks: string[]
  /** its groups, from its certificates and the allowlist */
  groups: string[]
  addresses: string[]
  connection: 'direct' | 'relayed' | null
  transport?: string
  /** that connection's encryption protocol: `/noise`, or `/tls/1.0.0` with peers that speak only TLS */
  encryption?: string
  rttMs?: number
  agent?: string
  /** allowlisted, or a member of one of this node's networks */
  trusted: boolean
}

/** One line of `POST /ping`'s answer, as each ping completes or fails */
export type PingReply = { seq: number, rttMs: number } | { seq: number, error: string }

/** An allowlisted peer: one of `GET /trust`, the answer of `POST /trust` */
export interface TrustedPeer {
  peerId: string
  name?: string
  groups: string[]
}

export interface TrustRequest {
  peerId: string
  name?: string
  /** unset keeps the groups a peer already has */
  groups?: string[]
}

/** What a tunnel's counters say, for a service or a forward. */
export interface TunnelStatsView {
  /** tunnels open now */
  active: number
  /** tunnels opened since the daemon started */
  connections: number
  /** bytes from the remote peer to the local end */
  bytesIn: number
  /** bytes from the local end to the remote peer */
  bytesOut: number
  /** failed tunnels by kind: a status name such as `unknown_service`, or `peer_unreachable`, `reset` */
  failures: Record<string, number>
}

/** A service exposed here, as `expose` set it up. */
export interface ServiceRecord {
  name: string
  target: string
  proto: ServiceProtocol
  /** who may use it besides being admitted by a network or the allowlist: peer ids, names, `@group`s; empty: everyone admitted */
  allow: string[]
  /** the networks it is exposed in; empty: every network of this node */
  networks: string[]
  /** each tunnelled connection starts with a PROXY protocol v2 header naming the caller */
  proxyProtocol: boolean
  /** listed in this node's member records, so that members find it (`services --all`, `forward '*\/<service>'`); else private */
  publish: boolean
  /**
   * an A2A agent (`--a2a`) or MCP server (`--mcp`): what it said it can do when it was
   * exposed, published in capability records; its tunnels go through the agent proxy,
   * which names the caller in HTTP headers
   */
  agent?: AgentInfo
}

/** One of `GET /services`, the answer of `POST /services` */
export interface ServiceView extends ServiceRecord, TunnelStatsView {
  /** a TCP connection to the target succeeds right now */
  up: boolean
}

/** `GET /services?all=1`: this node's services and those the members of its networks publish */
export interface AllServicesView {
  local: ServiceView[]
  published: PublishedEntry[]
}

/** A service a member publishes, as `services --all` lists it. */
export interface PublishedEntry extends PublishedService {
  member: string
  peerId: string
  network: string
  rttMs: number
}

export interface ExposeRequest {
  name: string
  /** `host:port` */
  target: string
  proto?: string
  allow?: string[]
  networks?: string[]
  proxyProtocol?: boolean
  publish?: boolean
  /** read the service as an agent: `a2a` or `mcp` */
  agent?: string
  /** an MCP server's endpoint, `/mcp` by default */
  mcpPath?: string
}

/** A local port forward, as `forward` set it up. */
export interface ForwardRecord {
  /** `host:port` as bound (a port 0 given by the user is replaced by the port it got) */
  listen: string
  /** the peer id, or `*`: any member that publishes the service, the nearest first */
  peer: string
  service: string
  /** the network its tunnels go in (`--network`); else the first one both nodes are in, else the allowlist */
  network?: string
  /** the member name the user gave: resolved again for new connections, so a name that moves to a new peer id is followed */
  name?: string
  /** the `map` this forward belongs to (a member's virtual address), if any */
  map?: string
  /** listening on an address other hosts can reach, as the user asked with `--gateway` (ssh -g) */
  gateway?: boolean
}

/** One of `GET /forwards`, the answer of `POST /forwards` */
export interface ForwardView extends ForwardRecord, TunnelStatsView {
  gateway: boolean
  /** false when the address could not be bound at restore (see the log) */
  listening: boolean
}

export interface ForwardRequest {
  /** `[host:]port` */
  listen: string
  /** `<peer>/<service>` */
  target: string
  network?: string
  gateway?: boolean
}

/** A network this node is in: one of `GET /networks`, the answer of `POST /networks` */
export interface NetworkView {
  name: string
  vni: number
  /** the network's public key, hex: what identifies it */
  networkKey: string
  /** this node holds the network key (it created the network) */
  admin: boolean
  /** this node's name, groups, role and validity in the network, from its certificate */
  memberName: string
  groups: string[]
  role: string
  expires: string
  serial: string
  /** the version of the newest revocation list this node holds (0: none) */
  revocationsVersion: number
}

/** `POST /join`: the network joined, and the inviter's addresses it bootstraps from */
export interface JoinedView extends NetworkView {
  bootstrap: string[]
}

/** The fields of a certificate a user reads. */
export interface CertificateView {
  peerId: string
  name: string
  groups: string[]
  role: string
  expires: string
  serial: string
}

/** `POST /invites`: the certificate issued, and the token that carries it */
export interface IssuedView extends CertificateView {
  network: string
  token: string
}

/** `POST /renewals` */
export interface RenewedView extends IssuedView {
  /** the member is connected and was handed its new certificate */
  delivered: boolean
}

/** `POST /revocations` */
export interface RevokedView {
  network: string
  peerId: string
  /** the version of the new revocation list */
  version: number
  /** how many certificates it revokes */
  revoked: number
}

export interface InviteRequest {
  peerId: string
  name: string
  groups?: string[]
  /** e.g. `30d`; a year when unset */
  ttl?: string
  /** the member may serve as the network's relay */
  relay?: boolean
  network?: string
}

export interface RenewRequest {
  /** a member's name or peer id */
  member: string
  groups?: string[]
  ttl?: string
  network?: string
}

export interface RevokeRequest {
  /** a member's name or peer id */
  member: string
  network?: string
}

/** A member this node knows of, as its membership state has it. */
export interface MemberEntry {
  network: string
  name: string
  peerId: string
  groups: string[]
  role: Role
  expires: string
  serial: string
  revoked: boolean
  self: boolean
}

/** One of `GET /members`: a member, with whether it is connected and how */
export interface MemberView extends MemberEntry {
  online: boolean
  path: 'direct' | 'relayed' | null
}

/** `GET /resolve`: a member as `resolve` shows it */
export interface ResolvedMember {
  name: string
  network: string
  peerId: string
  groups: string[]
  role: string
  addresses: string[]
  services: PublishedService[]
  /** when the record it comes from expires (it is cached until then) */
  expires: string
  /** where the answer came from: this node's cache, or a DHT lookup */
  source: 'cache' | 'dht'
}

/** A member mapped to a virtual address. */
export interface MapRecord {
  name: string
  network: string
  peerId: string
  /** 127.77.x.y */
  address: string
}

/** One of `GET /maps`, the answer of `POST /maps` */
export interface MapView extends MapRecord {
  /** each service the member lets this node use, on its own port where that could be bound, else on another */
  ports: Array<{ service: string, port: number, listen: string, listening: boolean }>
}

/** `GET /agents`: what to find (one of `skill` and `tool`) */
export interface FindQuery {
  skill?: string
  tool?: string
  network?: string
}

/** One of `GET /agents`: an agent `find` returns */
export interface FoundAgent {
  /** the member's name, from its certificate */
  member: string
  peerId: string
  network: string
  /** the exposed service: `connect <member>/<service>` */
  service: string
  kind: AgentKind
  /** the agent's own name (the card's `name`, the MCP server's) */
  title: string
  /** where it answers on the service: `/`, or the MCP endpoint */
  path: string
  /** A2A: the skills, with their tags */
  skills?: AgentSkill[]
  /** MCP: the tools */
  tools?: string[]
  /** the path new tunnels take: through a relay, or not */
  connection: 'direct' | 'relayed'
  rttMs: number
}

/** `POST /connect`: one of `skill`, `tool` and `target` */
export interface ConnectRequest {
  skill?: string
  tool?: string
  /** `<member or peer id>/<service>` */
  target?: string
  network?: string
}

/** `POST /connect`'s answer: the local URL an A2A or MCP client points at, and the forward behind it */
export interface ConnectView {
  url: string
  listen: string
  peer: string
  service: string
  /** the member's name, when the agent was found by skill or tool, or named */
  member?: string
  network?: string
  kind?: AgentKind
  /** an existing forward to the same agent was reused */
  reused: boolean
}
