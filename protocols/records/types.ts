import type { Certificate, RevocationList } from '../membership/types.ts'
import type { AGENT_KIND_CODES, PROTO_CODES } from './constants.ts'

export type ServiceProto = keyof typeof PROTO_CODES

export interface PublishedService {
  /** SERVICE_NAME_PATTERN of protocols/envelope. */
  name: string
  proto: ServiceProto
  /** The service's port, 1 to 65535: the one a virtual address listens on. */
  port: number
}

export interface MemberRecordFields {
  /** The member's certificate (protocols/membership). */
  certificate: Certificate
  /** u64, strictly higher for a newer record: the publisher uses its clock in milliseconds. */
  sequence: bigint
  /** Unix seconds. */
  expiresAt: number
  /** Sorted by name (byte-wise) when signed and decoded, no name twice. */
  services: PublishedService[]
  /** Multiaddrs, no address twice, in the publisher's order of preference. */
  addresses: string[]
}

export interface MemberRecord extends MemberRecordFields {
  signature: Uint8Array
  /** The exact encoding, signature included. */
  bytes: Uint8Array
}

export interface VerifyRecordOptions {
  /** Unix seconds. */
  now: number
  /** When given, must equal the certificate's network key: the reader's network. */
  networkKey?: Uint8Array
  /** The network's newest verified revocation list. */
  revocations?: RevocationList
  /** When given, must equal the certificate's member name: the name the reader looked up. */
  name?: string
}

export type AgentKind = keyof typeof AGENT_KIND_CODES

/** A skill of an A2A agent (its id and tags), or a tool of an MCP server (its name, no tags); normalised terms. */
export interface AgentSkill {
  id: string
  /** sorted byte-wise, no tag twice; always empty for MCP tools */
  tags: string[]
}

/** One agent service a member exposes: what `find` matches and shows. */
export interface AgentService {
  /** the exposed service's name (SERVICE_NAME_PATTERN of protocols/envelope) */
  service: string
  kind: AgentKind
  /** the agent's own name: the card's `name`, the MCP server's `serverInfo.name` (may be empty) */
  title: string
  /** where it answers on the service: `/` for an A2A agent (its card is at `/.well-known/agent-card.json`), the MCP endpoint's path (`/mcp`) */
  path: string
  /** sorted by id byte-wise, no id twice */
  skills: AgentSkill[]
}

export interface CapabilityRecordFields {
  certificate: Certificate
  /** u64, strictly higher for a newer record: the publisher's clock in milliseconds */
  sequence: bigint
  /** Unix seconds */
  expiresAt: number
  /** sorted by service name byte-wise when signed and decoded, no name twice */
  agents: AgentService[]
}

export interface CapabilityRecord extends CapabilityRecordFields {
  signature: Uint8Array
  bytes: Uint8Array
}
