/**
 * Prints the worked examples of protocols/records/SPEC.md section 9,
 * annotated field by field: `node test/records/spec-examples.ts`. The tests
 * check the SPEC's blocks byte for byte against the codec, so run this and
 * paste its output when a layout changes.
 */

import { multiaddr } from '@multiformats/multiaddr'
import { annotate, split } from '../helpers/spec-corpus.ts'
import { toString } from 'uint8arrays/to-string'
import {
  capabilityProvidersCid, capabilityProvidersInput, capabilityRecordKey, memberRecordKey, networkMembersCid, networkMembersInput,
  serviceProvidersCid, serviceProvidersInput, signCapabilityRecord, signMemberRecord
} from '../../protocols/records/index.ts'
import { capabilityExample, keys, peerKeys, recordExample } from './vectors.ts'

const { network, alice } = await keys()
const { bob } = await peerKeys()
const fields = await recordExample()
const record = await signMemberRecord(fields, bob)
const networkKey = network.publicKey.raw
const addressBytes = record.addresses.map((address) => multiaddr(address).bytes)

const layout: Array<[number, string]> = [
  [1, 'format version 1'],
  [2, `certificate length ${record.certificate.bytes.length}`],
  [record.certificate.bytes.length, 'certificate: bob in "fleet", protocols/membership/SPEC.md section 8.1, verbatim'],
  [8, `sequence ${record.sequence} (ms: 2026-01-02T00:00:00.000Z)`],
  [8, `expiresAt ${record.expiresAt} (2026-01-02T01:00:00Z)`],
  [1, `service count ${record.services.length}`],
  ...record.services.flatMap((service): Array<[number, string]> => [
    [1, `service name length ${service.name.length}`], [service.name.length, `"${service.name}"`],
    [1, `protocol ${service.proto}`], [2, `port ${service.port}`]
  ]),
  [1, `address count ${record.addresses.length}`],
  ...record.addresses.flatMap((address, i): Array<[number, string]> => [
    [2, `address length ${addressBytes[i].length}`], [addressBytes[i].length, address.replace(alice.toString(), '<alice>')]
  ]),
  [2, `signature length ${record.signature.length}`],
  [record.signature.length, 'signature: Ed25519 by bob\'s peer key (seed 02 x 32) of "agentmesh member record v1" 00 and every byte above but the signature length']
]

const membersCid = networkMembersCid(networkKey)
const serviceCid = serviceProvidersCid(networkKey, 'inference')

console.log('```hex example=member-record')
console.log(annotate(split(record.bytes, layout)))
console.log('```\n')
console.log('```text example=member-record-key')
console.log(toString(memberRecordKey(networkKey, 'bob')))
console.log('```\n')
console.log('```hex example=network-members-input')
console.log(annotate(split(networkMembersInput(networkKey), [[28, '"agentmesh network members v1"'], [1, '00'], [32, 'network key of "fleet" (seed 01 x 32)']])))
console.log('```\n')
console.log('```hex example=network-members-cid')
console.log(annotate(split(membersCid.bytes, [[1, 'CID version 1'], [1, 'multicodec raw (0x55)'], [1, 'multihash sha2-256 (0x12)'], [1, 'digest length 32'], [32, 'SHA-256 of the input above']])))
console.log('```\n')
console.log('```text example=network-members-cid-text')
console.log(membersCid.toString())
console.log('```\n')
console.log('```hex example=service-providers-input')
console.log(annotate(split(serviceProvidersInput(networkKey, 'inference'), [[20, '"agentmesh service v1"'], [1, '00'], [32, 'network key of "fleet" (seed 01 x 32)'], [1, '00'], [9, '"inference"']])))
console.log('```\n')
console.log('```hex example=service-providers-cid')
console.log(annotate(split(serviceCid.bytes, [[1, 'CID version 1'], [1, 'multicodec raw (0x55)'], [1, 'multihash sha2-256 (0x12)'], [1, 'digest length 32'], [32, 'SHA-256 of the input above']])))
console.log('```\n')
console.log('```text example=service-providers-cid-text')
console.log(serviceCid.toString())
console.log('```')

const capability = await signCapabilityRecord(await capabilityExample(), bob)
const capabilityLayout: Array<[number, string]> = [
  [1, 'format version 1'],
  [2, `certificate length ${capability.certificate.bytes.length}`],
  [capability.certificate.bytes.length, 'certificate: bob in "fleet", protocols/membership/SPEC.md section 8.1, verbatim'],
  [8, `sequence ${capability.sequence} (ms: 2026-01-02T00:00:00.000Z)`],
  [8, `expiresAt ${capability.expiresAt} (2026-01-02T01:00:00Z)`],
  [1, `agent count ${capability.agents.length}`],
  ...capability.agents.flatMap((agent): Array<[number, string]> => [
    [1, `service name length ${agent.service.length}`], [agent.service.length, `"${agent.service}"`],
    [1, `kind ${agent.kind}`],
    [1, `title length ${agent.title.length}`], [agent.title.length, `"${agent.title}"`],
    [1, `path length ${agent.path.length}`], [agent.path.length, `"${agent.path}"`],
    [1, `${agent.kind === 'mcp' ? 'tool' : 'skill'} count ${agent.skills.length}`],
    ...agent.skills.flatMap((skill): Array<[number, string]> => [
      [1, `${agent.kind === 'mcp' ? 'tool name' : 'skill id'} length ${skill.id.length}`], [skill.id.length, `"${skill.id}"`],
      [1, `tag count ${skill.tags.length}`],
      ...skill.tags.flatMap((tag): Array<[number, string]> => [[1, `tag length ${tag.length}`], [tag.length, `"${tag}"`]])
    ])
  ]),
  [2, `signature length ${capability.signature.length}`],
  [capability.signature.length, 'signature: Ed25519 by bob\'s peer key (seed 02 x 32) of "agentmesh capability record v1" 00 and every byte above but the signature length']
]
const skillCid = capabilityProvidersCid('skill', networkKey, 'translate')
const toolCid = capabilityProvidersCid('tool', networkKey, 'add')
const cidLayout: Array<[number, string]> = [[1, 'CID version 1'], [1, 'multicodec raw (0x55)'], [1, 'multihash sha2-256 (0x12)'], [1, 'digest length 32'], [32, 'SHA-256 of the input above']]

console.log('\n```hex example=capability-record')
console.log(annotate(split(capability.bytes, capabilityLayout)))
console.log('```\n')
console.log('```text example=capability-record-key')
console.log(toString(capabilityRecordKey(networkKey, capability.certificate.peerId)))
console.log('```\n')
console.log('```hex example=skill-providers-input')
console.log(annotate(split(capabilityProvidersInput('skill', networkKey, 'translate'), [[18, '"agentmesh skill v1"'], [1, '00'], [32, 'network key of "fleet" (seed 01 x 32)'], [1, '00'], [9, '"translate"']])))
console.log('```\n')
console.log('```hex example=skill-providers-cid')
console.log(annotate(split(skillCid.bytes, cidLayout)))
console.log('```\n')
console.log('```text example=skill-providers-cid-text')
console.log(skillCid.toString())
console.log('```\n')
console.log('```text example=tool-providers-cid-text')
console.log(toolCid.toString())
console.log('```')
