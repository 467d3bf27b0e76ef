/**
 * Every number of the member record format, with the reason beside it.
 * protocols/records/SPEC.md is the normative text; keep the two in step.
 */

import { MAX_ADDRESS_BYTES } from '../membership/constants.ts'
import { MAX_SERVICE_NAME_BYTES, SERVICE_NAME_PATTERN } from '../envelope/constants.ts'

export { MAX_SERVICE_NAME_BYTES, SERVICE_NAME_PATTERN }

/** The first byte of a member record: the only layout defined. */
export const MEMBER_RECORD_VERSION = 1

/**
 * What a record's signature covers, before the record's bytes: this string
 * and one 0x00 byte. The member's peer key also signs libp2p's own
 * structures (noise handshakes, signed peer records); a domain of its own
 * makes a record signature valid as nothing else, and nothing else as a record.
 */
export const MEMBER_RECORD_DOMAIN = 'agentmesh member record v1'

/**
 * The DHT key of a member record is `/<namespace>/` and 64 lower-case hex
 * digits: a namespace of its own, so kad-dht applies the member record
 * validator and selector to these records only.
 */
export const MEMBER_RECORD_DHT_NAMESPACE = 'agentmesh-member'
export const MEMBER_RECORD_DHT_PREFIX = `/${MEMBER_RECORD_DHT_NAMESPACE}/`

/**
 * The longest record, signature included. Any DHT server stores records of
 * any network (anyone can make a network key, so a valid certificate proves
 * nothing to a non-member), and every lookup downloads a copy from each of
 * up to 20 servers (kad-dht's K): a small cap bounds what a stranger can make
 * a server store and what a lookup costs. A certificate (at most 1024 bytes),
 * 32 services of short names and 8 ordinary addresses fit.
 */
export const MAX_MEMBER_RECORD_BYTES = 4096

/** Services a record can publish: enough for an agent's endpoints, small enough to keep the record small. */
export const MAX_PUBLISHED_SERVICES = 32

/** Addresses a record carries: a few listen addresses and relayed ones, not every interface (as in a token). */
export const MAX_RECORD_ADDRESSES = 8

/** The longest multiaddr in a record: the token's cap (protocols/membership). */
export const MAX_RECORD_ADDRESS_BYTES = MAX_ADDRESS_BYTES

/** An Ed25519 signature takes 64 bytes, a DER secp256k1 signature at most 72. */
export const ED25519_SIGNATURE_BYTES = 64
export const MAX_RECORD_SIGNATURE_BYTES = 72

/** Service protocol types, by their byte in a record: the `--proto` of `agentmesh expose`. */
export const PROTO_CODES = { tcp: 0, http: 1, grpc: 2, ssh: 3 } as const

/**
 * How long a record may still be valid, from the moment it is checked: a
 * publisher sets RECORD_TTL_SECONDS, so this leaves an hour for clocks that
 * disagree, and keeps a record of a member that stopped refreshing (or whose
 * clock runs far ahead) out of the DHT after at most two hours.
 */
export const MAX_RECORD_TTL_SECONDS = 2 * 3600

/** What the daemon sets: expiresAt = now + 1 hour. */
export const RECORD_TTL_SECONDS = 3600

/**
 * How often the daemon publishes a fresh record (and at once when its
 * services, addresses or certificate change): three refreshes per TTL, so a
 * missed refresh or two never lets the record expire, and a stale record
 * (moved addresses) lasts at most 20 minutes at readers that cache it.
 */
export const RECORD_REFRESH_SECONDS = 20 * 60

/** What the provider key of a network's member list hashes, before 0x00 and the network key. */
export const NETWORK_MEMBERS_DOMAIN = 'agentmesh network members v1'

/** What the provider key of a service hashes, before 0x00, the network key, 0x00 and the service name. */
export const SERVICE_PROVIDERS_DOMAIN = 'agentmesh service v1'

/** Multicodec `raw` and multihash `sha2-256`: the CIDs of the provider keys. */
export const RAW_CODEC = 0x55
export const SHA2_256_CODE = 0x12

/** The first byte of a capability record (SPEC.md section 12): the only layout defined. */
export const CAPABILITY_RECORD_VERSION = 1

/** What a capability record's signature covers before its bytes: its own domain, so no member record signature is valid as one. */
export const CAPABILITY_RECORD_DOMAIN = 'agentmesh capability record v1'

/** The DHT key of a capability record is `/<namespace>/` and 64 hex digits: its own validator and selector. */
export const CAPABILITY_RECORD_DHT_NAMESPACE = 'agentmesh-capability'
export const CAPABILITY_RECORD_DHT_PREFIX = `/${CAPABILITY_RECORD_DHT_NAMESPACE}/`

/**
 * The longest capability record, signature included: twice a member record, since an
 * agent's skills and their tags take more room than a list of services (8 agents of 64
 * skills with a few short tags fit), and still small enough that a lookup that downloads
 * a copy from each of up to 20 servers costs at most 160 KiB.
 */
export const MAX_CAPABILITY_RECORD_BYTES = 8192

/** Agent services (`expose --a2a` or `--mcp`) one record carries. */
export const MAX_AGENT_SERVICES = 8

/** Skills of an A2A agent, or tools of an MCP server, per service. */
export const MAX_AGENT_SKILLS = 64

/** Tags per skill. */
export const MAX_SKILL_TAGS = 16

/** A normalised skill id, tag or tool name, in UTF-8 bytes: MCP allows tool names of 128 characters. */
export const MAX_TERM_BYTES = 128

/** The agent's own name (the card's `name`, the MCP server's `serverInfo.name`), in UTF-8 bytes. */
export const MAX_AGENT_TITLE_BYTES = 128

/** Where the agent answers on its service, an absolute URL path (`/mcp`), in bytes. */
export const MAX_AGENT_PATH_BYTES = 128

/**
 * Distinct terms one record may be found by (skill ids and tags, tool names), in all its
 * services: each is a provider key the member announces in the DHT (a walk to the 20
 * closest servers) at every refresh.
 */
export const MAX_CAPABILITY_TERMS = 128

/** Agent kinds, by their byte in a capability record: `expose --a2a`, `expose --mcp`. */
export const AGENT_KIND_CODES = { a2a: 1, mcp: 2 } as const

/** What the provider key of an A2A skill id or tag hashes, before 0x00, the network key, 0x00 and the term. */
export const SKILL_PROVIDERS_DOMAIN = 'agentmesh skill v1'

/** What the provider key of an MCP tool name hashes, before 0x00, the network key, 0x00 and the term. */
export const TOOL_PROVIDERS_DOMAIN = 'agentmesh tool v1'
