/**
 * @packageDocumentation
 *
 * Member records: "member <name> of network <N> is peer <id>, publishes
 * these services and is reachable at these addresses", signed by the
 * member's peer key and kept in the Kademlia DHT under a key derived from
 * the network and the name; and the provider-record keys that enumerate a
 * network's members and the providers of a service. Codec and verification
 * only, no I/O. SPEC.md beside this file is the normative text. Capability
 * records (capability.ts) say which A2A agents and MCP servers a member serves,
 * found by skill or tool through their provider keys.
 *
 * @example
 *
 * ```ts
 * // the publisher, every RECORD_REFRESH_SECONDS
 * const record = await signMemberRecord({ certificate, sequence: BigInt(Date.now()),
 *   expiresAt: now + RECORD_TTL_SECONDS, services, addresses }, peerKey)
 * await dht.put(memberRecordKey(certificate.networkKey, certificate.name), record.bytes)
 * await dht.provide(networkMembersCid(certificate.networkKey))
 *
 * // kad-dht, on every node: validators: { [MEMBER_RECORD_DHT_NAMESPACE]: validateMemberRecord },
 * //                         selectors: { [MEMBER_RECORD_DHT_NAMESPACE]: selectMemberRecord }
 *
 * // a reader, for each value the DHT answers, the highest sequence first
 * const found = decodeMemberRecord(value)
 * await verifyMemberRecord(found, { now, networkKey, revocations, name: 'bob' })
 * ```
 */

export {
  AGENT_KIND_CODES, CAPABILITY_RECORD_DHT_NAMESPACE, CAPABILITY_RECORD_DHT_PREFIX, CAPABILITY_RECORD_DOMAIN,
  CAPABILITY_RECORD_VERSION, MAX_AGENT_PATH_BYTES, MAX_AGENT_SERVICES, MAX_AGENT_SKILLS, MAX_AGENT_TITLE_BYTES, MAX_CAPABILITY_RECORD_BYTES,
  MAX_CAPABILITY_TERMS, MAX_SKILL_TAGS, MAX_TERM_BYTES, SKILL_PROVIDERS_DOMAIN, TOOL_PROVIDERS_DOMAIN,
  ED25519_SIGNATURE_BYTES, MAX_MEMBER_RECORD_BYTES, MAX_PUBLISHED_SERVICES, MAX_RECORD_ADDRESS_BYTES, MAX_RECORD_ADDRESSES,
  MAX_RECORD_SIGNATURE_BYTES, MAX_RECORD_TTL_SECONDS, MAX_SERVICE_NAME_BYTES, MEMBER_RECORD_DHT_NAMESPACE,
  MEMBER_RECORD_DHT_PREFIX, MEMBER_RECORD_DOMAIN, MEMBER_RECORD_VERSION, NETWORK_MEMBERS_DOMAIN, PROTO_CODES, RAW_CODEC,
  RECORD_REFRESH_SECONDS, RECORD_TTL_SECONDS, SERVICE_NAME_PATTERN, SERVICE_PROVIDERS_DOMAIN, SHA2_256_CODE
} from './constants.ts'
export { decodeMemberRecord, signMemberRecord, verifyMemberRecord } from './record.ts'
export { readServices, writeServices } from './services.ts'
export { memberRecordKey, selectMemberRecord, validateMemberRecord } from './dht.ts'
export type { ValidateRecordOptions } from './dht.ts'
export {
  capabilityProvidersCid, capabilityProvidersInput, networkMembersCid, networkMembersInput, serviceProvidersCid, serviceProvidersInput
} from './discovery.ts'
export {
  capabilityRecordKey, capabilityTerms, checkAgents, checkTerm, decodeCapabilityRecord, normaliseTerm, selectCapabilityRecord,
  signCapabilityRecord, validateCapabilityRecord, verifyCapabilityRecord
} from './capability.ts'
export type { VerifyCapabilityOptions } from './capability.ts'
export { ExpiredRecordError, KeyMismatchError, NameMismatchError, TtlTooLongError } from './errors.ts'
// the membership errors a record can throw (its certificate, its fields), so one import serves
export {
  BadSignatureError, ExpiredCertificateError, MalformedFieldError, MembershipError, NotYetValidError, PeerMismatchError,
  RevokedError, TooLargeError, TrailingBytesError, TruncatedError, UnsupportedVersionError, WrongNetworkError
} from '../membership/errors.ts'
export type * from './types.ts'
