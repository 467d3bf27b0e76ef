/**
 * Capability records (SPEC.md section 12): "member <name> of network <N>, peer <id>,
 * serves these A2A agents and MCP servers, with these skills (ids and tags) or tools",
 * signed by the member's peer key and kept in the DHT under a key derived from the
 * network and the peer id. The provider keys of each skill and tool (discovery.ts) say
 * which peers to read it from.
 */

import { createHash } from 'node:crypto'
import { equals } from 'uint8arrays/equals'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { Reader, Writer } from '../membership/bytes.ts'
import { verifyCertificate } from '../membership/certificate.ts'
import { MalformedFieldError, PeerMismatchError, shortKey, TooLargeError } from '../membership/errors.ts'
import { checkNetworkKey, compareBytes, decodeText, encodeText } from '../membership/fields.ts'
import {
  AGENT_KIND_CODES, CAPABILITY_RECORD_DHT_PREFIX, CAPABILITY_RECORD_DOMAIN, CAPABILITY_RECORD_VERSION, MAX_AGENT_SERVICES,
  MAX_AGENT_PATH_BYTES, MAX_AGENT_SKILLS, MAX_AGENT_TITLE_BYTES, MAX_CAPABILITY_RECORD_BYTES, MAX_CAPABILITY_TERMS, MAX_SERVICE_NAME_BYTES,
  MAX_SKILL_TAGS, MAX_TERM_BYTES, SERVICE_NAME_PATTERN
} from './constants.ts'
import { KeyMismatchError } from './errors.ts'
import { checkSignatureAndExpiry, readHeader, readSignature, recordBytes, selectNewest, signerCertificate, signRecordBody, writeHeader } from './signed.ts'
import type { RecordKind } from './signed.ts'
import type { AgentKind, AgentService, AgentSkill, CapabilityRecord, CapabilityRecordFields, VerifyRecordOptions } from './types.ts'
import type { AbortOptions, PeerId, PrivateKey } from '@libp2p/interface'

/** Capability records as signed records (signed.ts). */
export const CAPABILITY_RECORD: RecordKind = {
  version: CAPABILITY_RECORD_VERSION, domain: CAPABILITY_RECORD_DOMAIN, maxBytes: MAX_CAPABILITY_RECORD_BYTES, label: 'capability record'
}

const KINDS = Object.keys(AGENT_KIND_CODES) as AgentKind[]
const CONTROL = /\p{Cc}/u

/**
 * The form a skill id, tag or tool name is published and looked up in (SPEC.md 12.2):
 * Unicode NFKC, lower case, no space at either end, each run of white space one space.
 * "Machine  Translation" and "machine translation" are one term.
 */
export function normaliseTerm (text: string): string {
  return text.normalize('NFKC').toLowerCase().trim().replace(/\s+/gu, ' ')
}

/** `term` if it is a normalised term of 1 to MAX_TERM_BYTES bytes without control characters, else MalformedFieldError. */
export function checkTerm (term: unknown, what: string): string {
  if (typeof term !== 'string' || term === '' || CONTROL.test(term) || normaliseTerm(term) !== term) {
    throw new MalformedFieldError(`the ${what} ${JSON.stringify(term)} is not a normalised term (lower case, NFKC, single spaces, no control characters)`)
  }
  if (encodeText(term).length > MAX_TERM_BYTES) {
    throw new MalformedFieldError(`the ${what} ${JSON.stringify(term.slice(0, 40))}... takes ${encodeText(term).length} bytes; at most ${MAX_TERM_BYTES} are allowed`)
  }
  return term
}

function checkTitle (title: unknown): string {
  if (typeof title !== 'string' || CONTROL.test(title)) throw new MalformedFieldError(`the agent title ${JSON.stringify(title)} is not text without control characters`)
  if (encodeText(title).length > MAX_AGENT_TITLE_BYTES) throw new MalformedFieldError(`the agent title takes ${encodeText(title).length} bytes; at most ${MAX_AGENT_TITLE_BYTES} are allowed`)
  return title
}

/** An absolute URL path of RFC 3986 characters: where the agent answers on its service (`/` for an A2A agent's card, `/mcp` for an MCP endpoint). */
const PATH_PATTERN = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/

function checkPath (path: unknown): string {
  if (typeof path !== 'string' || !PATH_PATTERN.test(path) || path.length > MAX_AGENT_PATH_BYTES) {
    throw new MalformedFieldError(`the agent path ${JSON.stringify(path)} is not an absolute URL path of at most ${MAX_AGENT_PATH_BYTES} characters`)
  }
  return path
}

function checkServiceName (name: unknown): string {
  if (typeof name !== 'string' || !SERVICE_NAME_PATTERN.test(name)) {
    throw new MalformedFieldError(`the service name ${JSON.stringify(name)} is not 1 to ${MAX_SERVICE_NAME_BYTES} ASCII letters, digits, '.', '_' and '-', starting with a letter or digit`)
  }
  return name
}

function byBytes (a: string, b: string): number {
  return compareBytes(encodeText(a), encodeText(b))
}

/** Strictly increasing by bytes: sorted, nothing twice. */
function checkIncreasing (previous: string | undefined, next: string, what: string): void {
  if (previous === undefined) return
  const order = byBytes(previous, next)
  if (order === 0) throw new MalformedFieldError(`the ${what} ${JSON.stringify(next)} appears twice`)
  if (order > 0) throw new MalformedFieldError(`the ${what} ${JSON.stringify(next)} comes after ${JSON.stringify(previous)}: they are sorted byte-wise`)
}

/** The provider-key term of each skill id and tag (A2A) or tool name (MCP), as `kind:term`. */
export function capabilityTerms (agents: AgentService[]): Set<string> {
  const terms = new Set<string>()
  for (const agent of agents) {
    const kind = agent.kind === 'mcp' ? 'tool' : 'skill'
    for (const skill of agent.skills) {
      terms.add(`${kind}:${skill.id}`)
      for (const tag of skill.tags) terms.add(`${kind}:${tag}`)
    }
  }
  return terms
}

function checkTermCount (agents: AgentService[], subject: string): void {
  const count = capabilityTerms(agents).size
  if (count > MAX_CAPABILITY_TERMS) {
    throw new TooLargeError(`${subject} ${count} distinct skill ids, tags and tool names; at most ${MAX_CAPABILITY_TERMS} are allowed`)
  }
}

function writeAgents (writer: Writer, agents: AgentService[]): void {
  if (!Array.isArray(agents)) throw new MalformedFieldError('the agents are not a list')
  if (agents.length > MAX_AGENT_SERVICES) throw new TooLargeError(`the record would carry ${agents.length} agent services; at most ${MAX_AGENT_SERVICES} are allowed`)
  const sorted = agents.map(agent => {
    if (!Array.isArray(agent?.skills)) throw new MalformedFieldError('the skills are not a list')
    return { ...agent, skills: agent.skills.map(skill => ({ id: skill?.id, tags: Array.isArray(skill?.tags) ? [...skill.tags].sort(byBytes) : skill?.tags })).sort((a, b) => byBytes(String(a.id), String(b.id))) }
  }).sort((a, b) => byBytes(String(a.service), String(b.service)))
  writer.u8(sorted.length)
  let previous: string | undefined
  for (const agent of sorted) {
    const service = checkServiceName(agent.service)
    checkIncreasing(previous, service, 'agent service')
    previous = service
    if (!KINDS.includes(agent.kind)) throw new MalformedFieldError(`the agent kind ${JSON.stringify(agent.kind)} is not one of ${KINDS.join(', ')}`)
    writer.prefixed(encodeText(service), 1).u8(AGENT_KIND_CODES[agent.kind]).prefixed(encodeText(checkTitle(agent.title)), 1).prefixed(encodeText(checkPath(agent.path)), 1)
    if (agent.skills.length > MAX_AGENT_SKILLS) throw new TooLargeError(`the agent ${service} would list ${agent.skills.length} skills or tools; at most ${MAX_AGENT_SKILLS} are allowed`)
    writer.u8(agent.skills.length)
    let previousId: string | undefined
    for (const skill of agent.skills as AgentSkill[]) {
      const id = checkTerm(skill.id, agent.kind === 'mcp' ? 'tool name' : 'skill id')
      checkIncreasing(previousId, id, agent.kind === 'mcp' ? 'tool name' : 'skill id')
      previousId = id
      if (!Array.isArray(skill.tags)) throw new MalformedFieldError(`the tags of ${id} are not a list`)
      if (agent.kind === 'mcp' && skill.tags.length > 0) throw new MalformedFieldError(`the MCP tool ${id} has tags: only A2A skills have tags`)
      if (skill.tags.length > MAX_SKILL_TAGS) throw new TooLargeError(`the skill ${id} would have ${skill.tags.length} tags; at most ${MAX_SKILL_TAGS} are allowed`)
      writer.prefixed(encodeText(id), 1).u8(skill.tags.length)
      let previousTag: string | undefined
      for (const tag of skill.tags) {
        checkIncreasing(previousTag, checkTerm(tag, 'tag'), 'tag')
        previousTag = tag
        writer.prefixed(encodeText(tag), 1)
      }
    }
  }
}

function readTerm (reader: Reader, what: string): string {
  return checkTerm(decodeText(reader.prefixed(1, MAX_TERM_BYTES, what, MalformedFieldError), what), what)
}

function readAgents (reader: Reader): AgentService[] {
  const count = reader.u8('agent count')
  if (count > MAX_AGENT_SERVICES) throw new TooLargeError(`the capability record carries ${count} agent services; at most ${MAX_AGENT_SERVICES} are allowed`)
  const agents: AgentService[] = []
  for (let i = 0; i < count; i++) {
    const service = checkServiceName(decodeText(reader.prefixed(1, MAX_SERVICE_NAME_BYTES, 'service name', MalformedFieldError), 'service name'))
    checkIncreasing(agents.at(-1)?.service, service, 'agent service')
    const code = reader.u8('agent kind')
    const kind = KINDS.find(name => AGENT_KIND_CODES[name] === code)
    if (kind === undefined) throw new MalformedFieldError(`the agent kind byte ${code} is not 1 (a2a) or 2 (mcp)`)
    const title = checkTitle(decodeText(reader.prefixed(1, MAX_AGENT_TITLE_BYTES, 'agent title', MalformedFieldError), 'agent title'))
    const path = checkPath(decodeText(reader.prefixed(1, MAX_AGENT_PATH_BYTES, 'agent path', MalformedFieldError), 'agent path'))
    const skillCount = reader.u8('skill count')
    if (skillCount > MAX_AGENT_SKILLS) throw new TooLargeError(`the agent ${service} lists ${skillCount} skills or tools; at most ${MAX_AGENT_SKILLS} are allowed`)
    const skills: AgentSkill[] = []
    for (let j = 0; j < skillCount; j++) {
      const what = kind === 'mcp' ? 'tool name' : 'skill id'
      const id = readTerm(reader, what)
      checkIncreasing(skills.at(-1)?.id, id, what)
      const tagCount = reader.u8('tag count')
      if (kind === 'mcp' && tagCount > 0) throw new MalformedFieldError(`the MCP tool ${id} has tags: only A2A skills have tags`)
      if (tagCount > MAX_SKILL_TAGS) throw new TooLargeError(`the skill ${id} has ${tagCount} tags; at most ${MAX_SKILL_TAGS} are allowed`)
      const tags: string[] = []
      for (let k = 0; k < tagCount; k++) {
        const tag = readTerm(reader, 'tag')
        checkIncreasing(tags.at(-1), tag, 'tag')
        tags.push(tag)
      }
      skills.push({ id, tags })
    }
    agents.push({ service, kind, title, path, skills })
  }
  checkTermCount(agents, 'the capability record has')
  return agents
}

/** Throws what signing these agents would throw for their fields and counts (not the record's total size). */
export function checkAgents (agents: AgentService[]): void {
  writeAgents(new Writer(), agents)
  checkTermCount(agents, 'the agents have')
}

/**
 * Checks the fields, sorts agents, skills and tags byte-wise, and signs the record with
 * the member's peer key, whose peer id must be the certificate's (PeerMismatchError).
 * Throws MalformedFieldError or TooLargeError for what a decoder would refuse.
 */
export async function signCapabilityRecord (fields: CapabilityRecordFields, peerKey: PrivateKey): Promise<CapabilityRecord> {
  const certificate = signerCertificate(fields?.certificate, peerKey)
  const writer = writeHeader(CAPABILITY_RECORD, certificate, fields.sequence, fields.expiresAt)
  writeAgents(writer, fields.agents)
  checkTermCount(fields.agents, 'the record would have')
  return decodeCapabilityRecord(await signRecordBody(CAPABILITY_RECORD, writer.finish(), peerKey, 'publish fewer agents, skills or tags'))
}

/** Reads a capability record: structure and field syntax only, no signature is checked. The result holds a copy of the bytes. */
export function decodeCapabilityRecord (input: Uint8Array): CapabilityRecord {
  const bytes = recordBytes(CAPABILITY_RECORD, input)
  const reader = new Reader(bytes, 'the capability record')
  const { certificate, sequence, expiresAt } = readHeader(CAPABILITY_RECORD, reader)
  const agents = readAgents(reader)
  const signature = readSignature(CAPABILITY_RECORD, reader, certificate)
  return { certificate, sequence, expiresAt, agents, signature, bytes }
}

export interface VerifyCapabilityOptions extends Omit<VerifyRecordOptions, 'name'> {
  /** when given, must be the certificate's peer: the provider the reader looked the record up for */
  peerId?: PeerId
}

/**
 * What a reader checks, in this order: the certificate (network key when given,
 * signature, validity, revocation when a list is given), the peer when given
 * (PeerMismatchError), the record's signature, its expiry and TTL. It checks the
 * record's bytes, decoded again.
 */
export async function verifyCapabilityRecord (record: CapabilityRecord, options: VerifyCapabilityOptions): Promise<void> {
  const decoded = decodeCapabilityRecord(record?.bytes)
  const { certificate } = decoded
  await verifyCertificate(certificate, {
    now: options.now,
    ...(options.networkKey === undefined ? {} : { networkKey: options.networkKey }),
    ...(options.revocations === undefined ? {} : { revocations: options.revocations })
  })
  if (options.peerId !== undefined && !options.peerId.equals(certificate.peerId)) {
    throw new PeerMismatchError(`the capability record is of peer ${certificate.peerId.toString()}, not of ${options.peerId.toString()}`)
  }
  await checkSignatureAndExpiry(CAPABILITY_RECORD, decoded, options.now)
}

/**
 * `/agentmesh-capability/` and the lower-case hex of SHA-256(network key || 0x00 || the
 * peer id's multihash bytes): where a member's capability record in that network lives.
 */
export function capabilityRecordKey (networkKey: Uint8Array, peerId: PeerId): Uint8Array {
  const hash = createHash('sha256')
    .update(checkNetworkKey(networkKey))
    .update(Uint8Array.of(0))
    .update(peerId.toMultihash().bytes)
    .digest()
  return fromString(`${CAPABILITY_RECORD_DHT_PREFIX}${toString(hash, 'base16')}`)
}

/**
 * The kad-dht validator of the namespace, which any DHT server runs: the value decodes,
 * the key is that of its certificate's network key and peer id (KeyMismatchError), the
 * certificate verifies against its own network key and is valid, the record's
 * signature, expiry and TTL. Readers check the network and revocation.
 */
export async function validateCapabilityRecord (key: Uint8Array, value: Uint8Array, options?: AbortOptions & { now?: number }): Promise<void> {
  const record = decodeCapabilityRecord(value)
  const { certificate } = record
  const expected = capabilityRecordKey(certificate.networkKey, certificate.peerId)
  if (!(key instanceof Uint8Array) || !equals(key, expected)) {
    throw new KeyMismatchError(`the capability record of "${certificate.name}" of network "${certificate.networkName}" (${shortKey(certificate.networkKey)}) is stored under another key; its own is ${toString(expected)}`)
  }
  const now = options?.now ?? Math.floor(Date.now() / 1000)
  await verifyCertificate(certificate, { now })
  await checkSignatureAndExpiry(CAPABILITY_RECORD, record, now)
}

/** The kad-dht selector: the highest sequence, then the later expiresAt, then the smaller bytes. */
export function selectCapabilityRecord (_key: Uint8Array, records: Uint8Array[]): number {
  return selectNewest(decodeCapabilityRecord, records, compareBytes)
}
