/**
 * Capability records (protocols/records/SPEC.md section 12): the worked example byte for
 * byte, the caps and rules of the layout, the reader's and the DHT server's checks in
 * their order, and fast-check properties (round trip; arbitrary or mutated bytes give
 * only SPEC errors).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { toString } from 'uint8arrays/to-string'
import { signRevocationList } from '../../protocols/membership/index.ts'
import { signedData } from '../../protocols/membership/signing.ts'
import {
  CAPABILITY_RECORD_DHT_NAMESPACE, CAPABILITY_RECORD_DOMAIN, capabilityProvidersCid, capabilityProvidersInput,
  capabilityRecordKey, decodeCapabilityRecord, MAX_AGENT_PATH_BYTES, MAX_AGENT_SERVICES, MAX_AGENT_SKILLS, MAX_CAPABILITY_RECORD_BYTES,
  MAX_CAPABILITY_TERMS, MAX_SKILL_TAGS, MAX_TERM_BYTES, MembershipError, normaliseTerm, selectCapabilityRecord,
  signCapabilityRecord, validateCapabilityRecord, verifyCapabilityRecord
} from '../../protocols/records/index.ts'
import type { AgentService, CapabilityRecordFields } from '../../protocols/records/index.ts'
import { capabilityExample, concatBytes, EXPIRES_AT, keys, NOW, peerKeys, specErrorNames, specExamples } from './vectors.ts'

const { network, otherNetwork, bob: bobId } = await keys()
const { bob, mallory } = await peerKeys()
const networkKey = network.publicKey.raw
const errorNames = specErrorNames()

async function errorOf (fn: () => unknown, name: string): Promise<string> {
  let message = ''
  await assert.rejects(async () => fn(), (err: Error) => {
    assert.equal(err.name, name, err.message)
    assert.doesNotMatch(err.message, /\n/)
    message = err.message
    return true
  })
  return message
}

function example (name: string): Uint8Array | string {
  const value = specExamples().get(name)
  assert.ok(value != null, `SPEC.md has no example ${name}`)
  return value
}

async function withAgents (agents: AgentService[]): Promise<CapabilityRecordFields> {
  return { ...await capabilityExample(), agents }
}

function skills (count: number, tags = 0, prefix = 's'): AgentService['skills'] {
  return Array.from({ length: count }, (_, i) => ({ id: `${prefix}${String(i).padStart(3, '0')}`, tags: Array.from({ length: tags }, (_, t) => `${prefix}${i}-t${t}`) }))
}

describe('capability records: SPEC.md 12.6 worked example', () => {
  it('signing bob\'s agents (given out of order) gives the SPEC bytes, which decode sorted and verify', async () => {
    const signed = await signCapabilityRecord(await capabilityExample(), bob)
    assert.deepEqual(signed.bytes, example('capability-record'))
    const decoded = decodeCapabilityRecord(example('capability-record') as Uint8Array)
    assert.deepEqual(decoded.agents, [
      { service: 'tools', kind: 'mcp', title: 'calc', path: '/mcp', skills: [{ id: 'add', tags: [] }] },
      { service: 'translator', kind: 'a2a', title: 'Translator', path: '/', skills: [{ id: 'translate', tags: ['language', 'translation'] }] }
    ])
    await verifyCapabilityRecord(decoded, { now: NOW, networkKey, peerId: bobId })
    await verifyCapabilityRecord(decoded, { now: EXPIRES_AT - 1, networkKey, peerId: bobId })
    await errorOf(async () => verifyCapabilityRecord(decoded, { now: EXPIRES_AT, networkKey }), 'ExpiredRecordError')
    await validateCapabilityRecord(capabilityRecordKey(networkKey, bobId), decoded.bytes, { now: NOW })
  })

  it('the key of bob\'s record and the provider keys of skill "translate" and tool "add" in fleet', () => {
    assert.equal(toString(capabilityRecordKey(networkKey, bobId)), example('capability-record-key'))
    assert.equal(toString(capabilityRecordKey(networkKey, bobId)).split('/')[1], CAPABILITY_RECORD_DHT_NAMESPACE)
    assert.deepEqual(capabilityProvidersInput('skill', networkKey, 'translate'), example('skill-providers-input'))
    const skill = capabilityProvidersCid('skill', networkKey, 'translate')
    assert.deepEqual(skill.bytes, example('skill-providers-cid'))
    assert.equal(skill.toString(), example('skill-providers-cid-text'))
    assert.ok(CID.parse(example('tool-providers-cid-text') as string).equals(capabilityProvidersCid('tool', networkKey, 'add')))
    // a skill and a tool of the same name, or one term in two networks, are different keys
    assert.ok(!capabilityProvidersCid('tool', networkKey, 'translate').equals(skill))
    assert.ok(!capabilityProvidersCid('skill', otherNetwork.publicKey.raw, 'translate').equals(skill))
  })
})

describe('terms', () => {
  it('normalise to NFKC, lower case, trimmed, single spaces', () => {
    assert.equal(normaliseTerm('  Machine \t Translation\n'), 'machine translation')
    assert.equal(normaliseTerm('ＴＲＡＮＳＬＡＴＥ'), 'translate')
    assert.equal(normaliseTerm('machine-translation'), 'machine-translation')
  })

  it('a provider key takes only a normalised term', async () => {
    for (const bad of ['Translate', ' translate', 'a  b', '', 'x'.repeat(MAX_TERM_BYTES + 1), 'a\u0000b']) {
      await errorOf(() => capabilityProvidersCid('skill', networkKey, bad), 'MalformedFieldError')
    }
    capabilityProvidersCid('skill', networkKey, 'x'.repeat(MAX_TERM_BYTES))
  })
})

describe('signCapabilityRecord and decodeCapabilityRecord', () => {
  it('are the constants of SPEC.md', () => {
    assert.equal(CAPABILITY_RECORD_DOMAIN, 'agentmesh capability record v1')
    assert.deepEqual([MAX_CAPABILITY_RECORD_BYTES, MAX_AGENT_SERVICES, MAX_AGENT_SKILLS, MAX_SKILL_TAGS, MAX_TERM_BYTES, MAX_CAPABILITY_TERMS, MAX_AGENT_PATH_BYTES], [8192, 8, 64, 16, 128, 128, 128])
  })

  it('refuse what a decoder would refuse, with the SPEC error', async () => {
    const agent = (over: Partial<AgentService>): AgentService => ({ service: 'translator', kind: 'a2a', title: 'T', path: '/', skills: [{ id: 'translate', tags: [] }], ...over })
    const cases: Array<[string, AgentService[], string]> = [
      ['a skill id not normalised', [agent({ skills: [{ id: 'Translate', tags: [] }] })], 'MalformedFieldError'],
      ['a tag not normalised', [agent({ skills: [{ id: 'translate', tags: ['Language'] }] })], 'MalformedFieldError'],
      ['a skill twice', [agent({ skills: [{ id: 'a', tags: [] }, { id: 'a', tags: [] }] })], 'MalformedFieldError'],
      ['a service twice', [agent({}), agent({})], 'MalformedFieldError'],
      ['a bad service name', [agent({ service: 'no spaces' })], 'MalformedFieldError'],
      ['a title with a control character', [agent({ title: 'evil\u001b[2J' })], 'MalformedFieldError'],
      ['a path that is not an absolute URL path', [agent({ path: 'mcp' })], 'MalformedFieldError'],
      ['an MCP tool with tags', [agent({ kind: 'mcp', skills: [{ id: 'add', tags: ['x'] }] })], 'MalformedFieldError'],
      ['an unknown kind', [agent({ kind: 'grpc' as 'a2a' })], 'MalformedFieldError'],
      ['too many services', Array.from({ length: MAX_AGENT_SERVICES + 1 }, (_, i) => agent({ service: `s${i}` })), 'TooLargeError'],
      ['too many skills', [agent({ skills: skills(MAX_AGENT_SKILLS + 1) })], 'TooLargeError'],
      ['too many tags', [agent({ skills: skills(1, MAX_SKILL_TAGS + 1) })], 'TooLargeError'],
      ['too many distinct terms', [agent({ skills: skills(40, 3) })], 'TooLargeError'],
      ['too many bytes', Array.from({ length: 8 }, (_, i) => agent({ service: `s${i}`, skills: skills(15, 0, `${'x'.repeat(100)}${i}-`) })), 'TooLargeError']
    ]
    for (const [what, agents, name] of cases) {
      const message = await errorOf(async () => signCapabilityRecord(await withAgents(agents), bob), name)
      assert.ok(message.length > 0, what)
    }
    await errorOf(async () => signCapabilityRecord(await capabilityExample(), mallory), 'PeerMismatchError')
  })

  it('an empty record (its last agent unexposed) and the largest that fits sign and decode', async () => {
    const empty = await signCapabilityRecord(await withAgents([]), bob)
    assert.deepEqual(decodeCapabilityRecord(empty.bytes).agents, [])
    const large = await signCapabilityRecord(await withAgents(Array.from({ length: 8 }, (_, i) => ({ service: `agent${i}`, kind: 'a2a' as const, title: 'A'.repeat(40), path: '/', skills: skills(16, 0, `k${i}-`) }))), bob)
    assert.ok(large.bytes.length <= MAX_CAPABILITY_RECORD_BYTES)
  })

  it('a decoder refuses input over the cap before reading it, trailing bytes, another version', async () => {
    const bytes = (await signCapabilityRecord(await capabilityExample(), bob)).bytes
    await errorOf(() => decodeCapabilityRecord(new Uint8Array(MAX_CAPABILITY_RECORD_BYTES + 1)), 'TooLargeError')
    await errorOf(() => decodeCapabilityRecord(concatBytes(bytes, Uint8Array.of(0))), 'TrailingBytesError')
    await errorOf(() => decodeCapabilityRecord(concatBytes(Uint8Array.of(2), bytes.subarray(1))), 'UnsupportedVersionError')
    await errorOf(() => decodeCapabilityRecord(bytes.subarray(0, bytes.length - 1)), 'TruncatedError')
  })
})

describe('verifyCapabilityRecord and validateCapabilityRecord', () => {
  it('a reader checks the network, revocation, the provider, then the signature: in that order', async () => {
    const record = await signCapabilityRecord(await capabilityExample(), bob)
    const body = record.bytes.subarray(0, record.bytes.length - 66)
    const forged = decodeCapabilityRecord(concatBytes(body, Uint8Array.of(0, 64), await mallory.sign(signedData(CAPABILITY_RECORD_DOMAIN, body))))
    await errorOf(async () => verifyCapabilityRecord(forged, { now: NOW, networkKey: otherNetwork.publicKey.raw }), 'WrongNetworkError')
    const revoked = await signRevocationList({ networkKey, version: 1n, entries: [{ peerId: bobId, serial: 0n }] }, network)
    await errorOf(async () => verifyCapabilityRecord(record, { now: NOW, networkKey, revocations: revoked }), 'RevokedError')
    const { alice } = await keys()
    await errorOf(async () => verifyCapabilityRecord(forged, { now: NOW, networkKey, peerId: alice }), 'PeerMismatchError')
    await errorOf(async () => verifyCapabilityRecord(forged, { now: NOW, networkKey, peerId: bobId }), 'BadSignatureError')
    // a member record's signature over the same body is no capability record signature
    const asMember = concatBytes(body, Uint8Array.of(0, 64), await bob.sign(signedData('agentmesh member record v1', body)))
    await errorOf(async () => verifyCapabilityRecord(decodeCapabilityRecord(asMember), { now: NOW }), 'BadSignatureError')
  })

  it('a DHT server refuses a record under another peer\'s or network\'s key', async () => {
    const record = await signCapabilityRecord(await capabilityExample(), bob)
    const { alice } = await keys()
    await errorOf(async () => validateCapabilityRecord(capabilityRecordKey(networkKey, alice), record.bytes, { now: NOW }), 'KeyMismatchError')
    await errorOf(async () => validateCapabilityRecord(capabilityRecordKey(otherNetwork.publicKey.raw, bobId), record.bytes, { now: NOW }), 'KeyMismatchError')
    await errorOf(async () => validateCapabilityRecord(capabilityRecordKey(networkKey, bobId), record.bytes, { now: EXPIRES_AT }), 'ExpiredRecordError')
  })

  it('the selector takes the highest sequence whatever the order; undecodable values never win', async () => {
    const fields = await capabilityExample()
    const older = await signCapabilityRecord(fields, bob)
    const newer = await signCapabilityRecord({ ...fields, sequence: fields.sequence + 1n, agents: [] }, bob)
    assert.equal(selectCapabilityRecord(new Uint8Array(), [older.bytes, newer.bytes]), 1)
    assert.equal(selectCapabilityRecord(new Uint8Array(), [newer.bytes, older.bytes]), 0)
    assert.equal(selectCapabilityRecord(new Uint8Array(), [Uint8Array.of(9), older.bytes]), 1)
  })
})

describe('capability record properties', () => {
  const term = fc.string({ minLength: 1, maxLength: 20 }).map(normaliseTerm).filter(t => t !== '' && !/\p{Cc}/u.test(t) && new TextEncoder().encode(t).length <= MAX_TERM_BYTES)
  const agents = fc.uniqueArray(fc.record({
    service: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    kind: fc.constantFrom('a2a' as const, 'mcp' as const),
    title: fc.string({ maxLength: 20 }).filter(t => !/\p{Cc}/u.test(t)),
    path: fc.constantFrom('/', '/mcp', '/a2a/v1'),
    skills: fc.uniqueArray(fc.record({ id: term, tags: fc.uniqueArray(term, { maxLength: 3 }) }), { maxLength: 4, selector: s => s.id })
  }), { maxLength: 3, selector: a => a.service }).map(list => list.map(agent => agent.kind === 'mcp' ? { ...agent, skills: agent.skills.map(s => ({ ...s, tags: [] })) } : agent))

  it('round trip: what signs decodes to the same agents, sorted, and verifies', async () => {
    const base = await capabilityExample()
    await fc.assert(fc.asyncProperty(agents, async list => {
      const record = await signCapabilityRecord({ ...base, agents: list }, bob)
      const decoded = decodeCapabilityRecord(record.bytes)
      assert.equal(decoded.agents.length, list.length)
      for (const agent of decoded.agents) {
        const given = list.find(a => a.service === agent.service)
        assert.deepEqual(new Set(agent.skills.map(s => s.id)), new Set(given?.skills.map(s => s.id)))
      }
      await verifyCapabilityRecord(decoded, { now: NOW, networkKey, peerId: bobId })
    }), { numRuns: 200 })
  })

  it('arbitrary or mutated bytes give a record or a SPEC error, never another exception', async () => {
    const bytes = (await signCapabilityRecord(await capabilityExample(), bob)).bytes
    const mutated = fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
      const copy = Uint8Array.from(bytes)
      copy[at] ^= xor
      return copy
    })
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated), input => {
      try {
        decodeCapabilityRecord(input)
      } catch (err) {
        assert.ok(err instanceof MembershipError, String(err))
        assert.ok(errorNames.has(err.name), err.name)
      }
    }), { numRuns: 5000 })
  })
})
