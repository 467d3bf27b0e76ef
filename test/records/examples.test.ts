import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { toString } from 'uint8arrays/to-string'
import {
  decodeMemberRecord, memberRecordKey, networkMembersCid, networkMembersInput, serviceProvidersCid, serviceProvidersInput,
  signMemberRecord, validateMemberRecord, verifyMemberRecord
} from '../../protocols/records/index.ts'
import { EXPIRES_AT, keys, NOW, peerKeys, plainRecord, recordExample, specExamples } from './vectors.ts'

function example (name: string): Uint8Array {
  const value = specExamples().get(name)
  assert.ok(value instanceof Uint8Array, `SPEC.md has no hex example ${name}`)
  return value
}

function text (name: string): string {
  const value = specExamples().get(name)
  assert.ok(typeof value === 'string', `SPEC.md has no text example ${name}`)
  return value
}

describe('SPEC.md worked examples', () => {
  it('lists exactly the examples the tests know', () => {
    assert.deepEqual([...specExamples().keys()].sort(), [
      'capability-record', 'capability-record-key', // section 12.6: test/records/capability.test.ts
      'member-record', 'member-record-key', 'network-members-cid', 'network-members-cid-text', 'network-members-input',
      'service-providers-cid', 'service-providers-cid-text', 'service-providers-input',
      'skill-providers-cid', 'skill-providers-cid-text', 'skill-providers-input', 'tool-providers-cid-text'
    ])
  })

  it('9.1: signing bob\'s record (services unsorted) gives the SPEC bytes; they decode to the fields and verify', async () => {
    const { network } = await keys()
    const { bob } = await peerKeys()
    const fields = await recordExample()
    const signed = await signMemberRecord(fields, bob)
    assert.deepEqual(signed.bytes, example('member-record'))
    const decoded = decodeMemberRecord(example('member-record'))
    assert.deepEqual(plainRecord(decoded), plainRecord(signed))
    assert.deepEqual(decoded.services, [...fields.services].reverse())
    assert.deepEqual(decoded.addresses, fields.addresses)
    assert.equal(decoded.sequence, fields.sequence)
    assert.equal(decoded.expiresAt, fields.expiresAt)
    await verifyMemberRecord(decoded, { now: NOW, networkKey: network.publicKey.raw, name: 'bob' })
    await verifyMemberRecord(decoded, { now: EXPIRES_AT - 1, networkKey: network.publicKey.raw, name: 'bob' })
    await assert.rejects(verifyMemberRecord(decoded, { now: EXPIRES_AT, networkKey: network.publicKey.raw, name: 'bob' }), { name: 'ExpiredRecordError' })
    await validateMemberRecord(memberRecordKey(network.publicKey.raw, 'bob'), decoded.bytes, { now: NOW })
  })

  it('9.2: the DHT key of bob in fleet', async () => {
    const { network } = await keys()
    assert.equal(toString(memberRecordKey(network.publicKey.raw, 'bob')), text('member-record-key'))
  })

  it('9.3: the provider key of fleet\'s members, input, CID bytes and text', async () => {
    const { network } = await keys()
    assert.deepEqual(networkMembersInput(network.publicKey.raw), example('network-members-input'))
    const cid = networkMembersCid(network.publicKey.raw)
    assert.deepEqual(cid.bytes, example('network-members-cid'))
    assert.equal(cid.toString(), text('network-members-cid-text'))
    assert.ok(CID.parse(text('network-members-cid-text')).equals(cid))
  })

  it('9.4: the provider key of "inference" in fleet, input, CID bytes and text', async () => {
    const { network } = await keys()
    assert.deepEqual(serviceProvidersInput(network.publicKey.raw, 'inference'), example('service-providers-input'))
    const cid = serviceProvidersCid(network.publicKey.raw, 'inference')
    assert.deepEqual(cid.bytes, example('service-providers-cid'))
    assert.equal(cid.toString(), text('service-providers-cid-text'))
  })
})
