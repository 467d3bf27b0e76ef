/**
 * A2A agent cards (`/.well-known/agent-card.json`): read from the service's own address
 * when it is exposed with `--a2a`, checked against A2A's published schema, turned into
 * the skills a capability record publishes; and, served through a forward, rewritten so
 * that its interface URLs point at the URL the caller used.
 */

import { z } from 'zod'
import { checkTerm, MAX_AGENT_TITLE_BYTES, normaliseTerm } from '../../protocols/records/index.ts'
import { formatHostPort } from '../addresses/host-port.ts'
import { AgentError } from './agent-errors.ts'
import { boundedFetch, describeFetchError } from './bounded-fetch.ts'
import type { AgentInfo } from './agent-info.ts'
import type { HostPort } from '../addresses/host-port.ts'

/** Where A2A agents serve their card (A2A 1.0 and 0.3), and where A2A 0.2 did. */
export const AGENT_CARD_PATH = '/.well-known/agent-card.json'
export const LEGACY_AGENT_CARD_PATH = '/.well-known/agent.json'

/** The largest card read: a card with a hundred skills and their descriptions takes tens of KiB. */
export const MAX_AGENT_CARD_BYTES = 256 * 1024

/** How long reading a card may take, from the connection to the last byte. */
export const AGENT_READ_TIMEOUT_MS = 5_000

/** Protocol bindings whose interface URL is an HTTP URL, reachable through a forward (gRPC's is `host:port`, over HTTP/2). */
const HTTP_BINDINGS = new Set(['JSONRPC', 'HTTP+JSON'])

const CONTROL = /\p{Cc}/u

const httpUrl = z.string().refine(text => {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol)
  } catch {
    return false
  }
}, 'expected an absolute http or https URL')

/**
 * The fields of an agent card that A2A's schema requires (a2a.proto of A2A 1.0, fields
 * with `field_behavior = REQUIRED`; the JSON schema of 0.3), for both revisions: 1.0
 * lists `supportedInterfaces` (url, protocolBinding, protocolVersion), 0.3 a `url` with
 * its `preferredTransport` and `additionalInterfaces`. Other fields pass unchecked.
 */
const agentCardSchema = z.object({
  name: z.string().min(1).refine(name => !CONTROL.test(name), 'has control characters')
    .refine(name => new TextEncoder().encode(name).length <= MAX_AGENT_TITLE_BYTES, `is longer than ${MAX_AGENT_TITLE_BYTES} bytes`),
  description: z.string(),
  version: z.string(),
  capabilities: z.record(z.string(), z.unknown()),
  defaultInputModes: z.array(z.string()),
  defaultOutputModes: z.array(z.string()),
  skills: z.array(z.object({
    id: z.string().min(1),
    name: z.string(),
    description: z.string(),
    tags: z.array(z.string())
  })),
  supportedInterfaces: z.array(z.object({ url: z.string().min(1), protocolBinding: z.string().min(1), protocolVersion: z.string() })).min(1).optional(),
  url: httpUrl.optional(),
  additionalInterfaces: z.array(z.object({ url: z.string().min(1), transport: z.string().min(1) })).optional()
}).superRefine((card, context) => {
  if (card.supportedInterfaces == null && card.url == null) {
    context.addIssue({ code: 'custom', path: ['supportedInterfaces'], message: 'missing: a card lists its interfaces (A2A 1.0), or a url (A2A 0.3)' })
  }
  card.supportedInterfaces?.forEach((entry, index) => {
    if (HTTP_BINDINGS.has(entry.protocolBinding) && !httpUrl.safeParse(entry.url).success) {
      context.addIssue({ code: 'custom', path: ['supportedInterfaces', index, 'url'], message: 'expected an absolute http or https URL' })
    }
  })
})

export type AgentCard = z.infer<typeof agentCardSchema>

/** The first problem zod found, as `skills[0].tags: expected array, received undefined`. */
function firstIssue (error: z.ZodError): string {
  const issue = error.issues[0]
  const path = issue?.path.reduce<string>((text, key) => typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`, '') ?? ''
  return `${path === '' ? 'the card' : path}: ${issue?.message ?? 'invalid'}`
}

/** Checks a parsed card against the schema; AgentError with the first problem. */
export function parseAgentCard (json: unknown, where: string): AgentCard {
  const parsed = agentCardSchema.safeParse(json)
  if (!parsed.success) throw new AgentError(`${where} is not a valid A2A agent card: ${firstIssue(parsed.error)}`)
  return parsed.data
}

/** The skills a card publishes: ids and tags normalised (SPEC 12.2), a skill id given twice merged, empty tags dropped. */
export function cardSkills (card: AgentCard, where: string): AgentInfo['skills'] {
  const skills = new Map<string, Set<string>>()
  for (const skill of card.skills) {
    const id = normaliseTerm(skill.id)
    const tags = skills.get(id) ?? new Set<string>()
    for (const tag of skill.tags.map(normaliseTerm)) if (tag !== '') tags.add(tag)
    skills.set(id, tags)
  }
  try {
    return [...skills].map(([id, tags]) => ({ id: checkTerm(id, 'skill id'), tags: [...tags].map(tag => checkTerm(tag, 'tag')) }))
  } catch (err: any) {
    throw new AgentError(`${where}: ${err.message}`)
  }
}

/**
 * Reads the card of the agent at `address` (GET /.well-known/agent-card.json, else the
 * older /.well-known/agent.json), within AGENT_READ_TIMEOUT_MS and MAX_AGENT_CARD_BYTES,
 * following no redirect; AgentError in one line when it cannot be read or is not valid.
 */
export async function readAgentCard (address: HostPort): Promise<AgentInfo> {
  const signal = AbortSignal.timeout(AGENT_READ_TIMEOUT_MS)
  const get = boundedFetch(MAX_AGENT_CARD_BYTES, signal)
  const origin = `http://${formatHostPort(address)}`
  let where = `${origin}${AGENT_CARD_PATH}`
  let text: string
  try {
    let response = await get(where, { headers: { accept: 'application/json' } })
    if (response.status === 404) {
      await response.body?.cancel()
      where = `${origin}${LEGACY_AGENT_CARD_PATH}`
      response = await get(where, { headers: { accept: 'application/json' } })
    }
    if (response.status !== 200) {
      await response.body?.cancel()
      throw new AgentError(`${where} answered ${response.status} ${response.statusText}: is this an A2A agent?`)
    }
    text = await response.text()
  } catch (err) {
    throw new AgentError(describeFetchError(err, `the agent card at ${where}`))
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err: any) {
    throw new AgentError(`the agent card at ${where} is not JSON: ${err.message}`)
  }
  const card = parseAgentCard(json, `the agent card at ${where}`)
  return { kind: 'a2a', title: card.name, path: '/', skills: cardSkills(card, `the agent card at ${where}`) }
}

/** `url` with its scheme, host and port replaced by `origin`; undefined when it is not an http(s) URL. */
function moved (url: unknown, origin: string): string | undefined {
  if (typeof url !== 'string') return undefined
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined
    return `${origin}${parsed.pathname}${parsed.search}`
  } catch {
    return undefined
  }
}

/**
 * The card as a caller through a forward must see it: every HTTP interface URL
 * (`supportedInterfaces[].url` of A2A 1.0; `url` and `additionalInterfaces[].url` of 0.3)
 * on `origin` (the URL the caller used: `http://<its Host header>`), path kept; the
 * interfaces a forward cannot carry (gRPC's `host:port`) are left out. Other fields are
 * untouched.
 */
export function rewriteAgentCard (card: Record<string, unknown>, origin: string): Record<string, unknown> {
  const rewritten: Record<string, unknown> = { ...card }
  const interfaces = (list: unknown, binding: 'protocolBinding' | 'transport'): unknown[] | undefined => Array.isArray(list)
    ? list.flatMap(entry => {
      const url = HTTP_BINDINGS.has(entry?.[binding]) ? moved(entry?.url, origin) : undefined
      return url == null ? [] : [{ ...entry, url }]
    })
    : undefined
  if (Array.isArray(card.supportedInterfaces)) rewritten.supportedInterfaces = interfaces(card.supportedInterfaces, 'protocolBinding')
  if (Array.isArray(card.additionalInterfaces)) rewritten.additionalInterfaces = interfaces(card.additionalInterfaces, 'transport')
  const url = moved(card.url, origin)
  if (url != null) rewritten.url = url
  return rewritten
}
