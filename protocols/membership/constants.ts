/**
 * Every number of the membership wire formats and protocol, with the reason
 * beside it. protocols/membership/SPEC.md is the normative text; keep the two
 * in step.
 */

export const PROTOCOL_PREFIX = 'agentmesh'
export const PROTOCOL_NAME = 'membership'
export const PROTOCOL_VERSION = '1.0.0'
export const MEMBERSHIP_PROTOCOL = `/${PROTOCOL_PREFIX}/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`

/** The first byte of a certificate: the only layout defined. */
export const CERTIFICATE_VERSION = 1

/** The first byte of a revocation list: the only layout defined. */
export const REVOCATION_LIST_VERSION = 1

/** The first byte of a token's binary payload: the only layout defined. */
export const TOKEN_VERSION = 1

/**
 * What a certificate's signature covers, before the certificate's own bytes:
 * this string and one 0x00 byte. The network key signs certificates and
 * revocation lists; distinct domain strings make a signature of one never
 * valid as the other, nor as anything else signed with an Ed25519 key.
 */
export const CERTIFICATE_DOMAIN = 'agentmesh certificate v1'

/** What a revocation list's signature covers, before the list's own bytes (then one 0x00 byte). */
export const REVOCATIONS_DOMAIN = 'agentmesh revocations v1'

/** The text every token starts with: says what it is and which layout follows, and survives copy and paste. */
export const TOKEN_PREFIX = 'amtok1_'

/** A raw Ed25519 public key. */
export const NETWORK_KEY_BYTES = 32

/** An Ed25519 signature. */
export const SIGNATURE_BYTES = 64

/** The VNI is 24 bits, the envelope's field (protocols/envelope/SPEC.md). */
export const MAX_VNI = 0xff_ffff

/** VNI 0 is reserved for the allowlist tunnels of nodes outside any network: no network may take it. */
export const RESERVED_VNI = 0

/** Network and member names: a DNS label, lower case, so it is safe in logs, paths and host names. */
export const MAX_NAME_CHARS = 63
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/

/** Group names: like names, and `_` too, as in Unix group names. */
export const MAX_GROUP_CHARS = 63
export const GROUP_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/

/** Groups a certificate can carry: enough for policy, small enough to keep the certificate small. */
export const MAX_GROUPS = 16

/** Roles, by their byte in a certificate. */
export const ROLE_CODES = { member: 0, relay: 1, admin: 2 } as const

/**
 * The longest peer id accepted: the identity multihash of a secp256k1 key
 * (39 bytes). Ed25519 peer ids take 38 bytes, RSA (sha2-256) peer ids 34.
 */
export const MAX_PEER_ID_BYTES = 39

/**
 * Unix times must be at most 2^53 - 1 so that every implementation holds
 * them exactly in a double; that is some 285 million years away.
 */
export const MAX_TIME = Number.MAX_SAFE_INTEGER

/** Serials and list versions are unsigned 64-bit integers. */
export const MAX_U64 = 0xffff_ffff_ffff_ffffn

/**
 * The longest certificate, signature included. The longest fields would take
 * 1318 bytes (16 groups of 63 characters); 1024 is plenty for real names and
 * groups, keeps a hello small and lets a u16 length prefix carry one.
 */
export const MAX_CERTIFICATE_BYTES = 1024

/**
 * Entries a revocation list can hold: a fleet that has revoked more members
 * than that should make a new network key. Keeps a list under 200 KB, so one
 * fits one message.
 */
export const MAX_REVOKED_ENTRIES = 4096

/** One entry: peer id length, peer id, serial. */
export const MAX_REVOCATION_ENTRY_BYTES = 1 + MAX_PEER_ID_BYTES + 8

/** Version, network key, list version, entry count and signature, around the entries. */
export const REVOCATION_LIST_OVERHEAD_BYTES = 1 + NETWORK_KEY_BYTES + 8 + 2 + SIGNATURE_BYTES

/** The longest revocation list (196,715 bytes). */
export const MAX_REVOCATION_LIST_BYTES = REVOCATION_LIST_OVERHEAD_BYTES + MAX_REVOKED_ENTRIES * MAX_REVOCATION_ENTRY_BYTES

/** Addresses a token carries: a few listen addresses and relayed ones, not every interface. */
export const MAX_TOKEN_ADDRESSES = 8

/**
 * The longest multiaddr in a token: a /dns name of 253 characters with a
 * port, a relay hop and two peer ids fits.
 */
export const MAX_ADDRESS_BYTES = 512

/**
 * The longest token, in characters, prefix included: it must survive a chat
 * message, a terminal paste and a command line.
 */
export const MAX_TOKEN_CHARS = 4096

/** Message types, by their first byte. */
export const MessageType = {
  HELLO: 1,
  REVOCATIONS: 2,
  CERTIFICATE: 3
} as const
export type MessageType = typeof MessageType[keyof typeof MessageType]

/** A message's header: type (u8) and body length (u32). */
export const MESSAGE_HEADER_BYTES = 5

/**
 * The longest message body: a hello with 16 full certificates and a full
 * revocation list fits; the decoder refuses a longer length before buffering.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024

/** Certificates in a hello: one per network a node is in. */
export const MAX_HELLO_CERTIFICATES = 16

/** Revocation lists in a hello or a revocations message: one per network. */
export const MAX_MESSAGE_LISTS = 16

/** The longest body of a certificate message: u16 length and one certificate. */
export const MAX_CERTIFICATE_MESSAGE_BYTES = 2 + MAX_CERTIFICATE_BYTES

/**
 * Leeway before the start of a certificate's validity window: nodes' clocks
 * disagree by seconds to minutes, and a certificate issued "now" must work at
 * once on a node whose clock is behind. None after its end: an expired
 * certificate ends at its notAfter everywhere, as the admin chose it.
 */
export const CLOCK_SKEW_SECONDS = 300

/**
 * How long a handshake may take from opening the stream to the last byte,
 * and how long a tunnel responder waits for a handshake in flight on the same
 * connection before it answers: two messages of at most 256 KiB and two
 * signature checks each, even over a relay.
 */
export const HANDSHAKE_TIMEOUT_MS = 5_000

/**
 * Inbound handshakes per peer per minute beyond which the stream is reset:
 * a connection needs one, reconnects and pushes a few more; each costs up to
 * 32 signature checks, so an unbounded peer could burn the node's CPU.
 */
export const HANDSHAKES_PER_MINUTE_PER_PEER = 20

/** How soon, after a node learns a revocation, every connection and tunnel of the revoked peer must be closed. */
export const REVOCATION_ENFORCEMENT_MS = 10_000

/**
 * The DHT key of a network's revocation list is `/<namespace>/` and the
 * lower-case hex of the network key: a namespace of its own, so kad-dht
 * applies its validator (a list signed by the key the record's key names)
 * and selector (the highest version) to these records only.
 */
export const REVOCATIONS_DHT_NAMESPACE = 'agentmesh-revocations'
export const REVOCATIONS_DHT_PREFIX = `/${REVOCATIONS_DHT_NAMESPACE}/`
