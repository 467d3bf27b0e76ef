import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { Writer } from '../membership/bytes.ts'
import { checkNetworkKey, encodeText } from '../membership/fields.ts'
import { MalformedFieldError } from '../membership/errors.ts'
import { checkTerm } from './capability.ts'
import {
  MAX_SERVICE_NAME_BYTES, NETWORK_MEMBERS_DOMAIN, RAW_CODEC, SERVICE_NAME_PATTERN, SERVICE_PROVIDERS_DOMAIN, SHA2_256_CODE,
  SKILL_PROVIDERS_DOMAIN, TOOL_PROVIDERS_DOMAIN
} from './constants.ts'

/** CIDv1, codec raw, of the sha2-256 multihash of `input`. */
function rawSha256Cid (input: Uint8Array): CID {
  const digest = Uint8Array.from(createHash('sha256').update(input).digest())
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256_CODE, digest))
}

/** The bytes networkMembersCid hashes: the ASCII domain, 0x00, the network key. */
export function networkMembersInput (networkKey: Uint8Array): Uint8Array {
  return new Writer().bytes(encodeText(NETWORK_MEMBERS_DOMAIN)).u8(0).bytes(checkNetworkKey(networkKey)).finish()
}

/** The bytes serviceProvidersCid hashes: the ASCII domain, 0x00, the network key, 0x00, the service name. */
export function serviceProvidersInput (networkKey: Uint8Array, service: string): Uint8Array {
  if (typeof service !== 'string' || !SERVICE_NAME_PATTERN.test(service)) {
    throw new MalformedFieldError(`the service name ${JSON.stringify(service)} is not 1 to ${MAX_SERVICE_NAME_BYTES} ASCII letters, digits, '.', '_' and '-', starting with a letter or digit`)
  }
  return new Writer().bytes(encodeText(SERVICE_PROVIDERS_DOMAIN)).u8(0).bytes(checkNetworkKey(networkKey)).u8(0).bytes(encodeText(service)).finish()
}

/**
 * The provider key every member of the network provides (kad-dht
 * `provide`), so that members can be enumerated (`services --all`): CIDv1,
 * raw, sha2-256 of "agentmesh network members v1" 0x00 networkKey.
 */
export function networkMembersCid (networkKey: Uint8Array): CID {
  return rawSha256Cid(networkMembersInput(networkKey))
}

/**
 * The provider key of the members that publish `service` (`forward <port>
 * '*\/<service>'`): CIDv1, raw, sha2-256 of "agentmesh service v1" 0x00
 * networkKey 0x00 service.
 */
export function serviceProvidersCid (networkKey: Uint8Array, service: string): CID {
  return rawSha256Cid(serviceProvidersInput(networkKey, service))
}

/**
 * The bytes a capability provider key hashes: the domain of skills (A2A skill ids and
 * tags) or of tools (MCP tool names), 0x00, the network key, 0x00, the normalised term.
 */
export function capabilityProvidersInput (kind: 'skill' | 'tool', networkKey: Uint8Array, term: string): Uint8Array {
  const domain = kind === 'tool' ? TOOL_PROVIDERS_DOMAIN : SKILL_PROVIDERS_DOMAIN
  return new Writer().bytes(encodeText(domain)).u8(0).bytes(checkNetworkKey(networkKey)).u8(0).bytes(encodeText(checkTerm(term, kind === 'tool' ? 'tool name' : 'skill'))).finish()
}

/**
 * The provider key of the members that serve an agent with skill id or tag `term`
 * (`kind` skill), or an MCP server with tool `term` (`kind` tool), in the network:
 * `find --skill`, `find --tool`. The term must be normalised (normaliseTerm).
 */
export function capabilityProvidersCid (kind: 'skill' | 'tool', networkKey: Uint8Array, term: string): CID {
  return rawSha256Cid(capabilityProvidersInput(kind, networkKey, term))
}
