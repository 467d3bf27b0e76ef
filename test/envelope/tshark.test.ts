/**
 * Interoperability: Wireshark's Geneve dissector, which no one here wrote,
 * must read the same header and option fields the codec wrote. Each envelope
 * goes into a pcap file as the payload of a UDP datagram to port 6081.
 */

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { encodeEnvelope, ProtocolType } from '../../protocols/envelope/index.ts'
import { missingTool } from '../helpers/services/tools.ts'
import type { EnvelopeHeader, RawOption } from '../../protocols/envelope/index.ts'
import { skippableOption } from './arbitraries.ts'
import { concatBytes, specExample } from './helpers.ts'
import { pcapFile } from './pcap.ts'

const GENEVE_PORT = 6081

const FIELDS = [
  'frame.protocols', 'geneve.version', 'geneve.flags.oam', 'geneve.flags.critical', 'geneve.proto_type',
  'geneve.vni', 'geneve.option.length', 'geneve.option.class', 'geneve.option.type', 'data.data'
] as const

const skip = missingTool('tshark', 'tshark')

/** What a Geneve reader should see in one envelope. */
interface Seen {
  protocols: string
  version: number
  oam: boolean
  critical: boolean
  protocolType: number
  vni: number
  /** Opt Len in bytes, as Wireshark reports it. */
  optionsBytes: number
  /** Class, type and length in bytes including the option header, as Wireshark reports them. */
  options: Array<{ optionClass: number, type: number, bytes: number }>
  payload: string
}

/** Runs tshark over the envelopes, each with its payload, and reads back one Seen per packet. */
function dissect (packets: ReadonlyArray<{ envelope: Uint8Array, payload?: Uint8Array }>): Seen[] {
  const directory = mkdtempSync(join(tmpdir(), 'agentmesh-geneve-'))
  try {
    const file = join(directory, 'envelopes.pcap')
    writeFileSync(file, pcapFile(packets.map(({ envelope, payload = new Uint8Array(0) }, index) => ({
      source: [127, 0, 0, 1],
      destination: [127, 0, 0, 2],
      sourcePort: 40_000 + index,
      destinationPort: GENEVE_PORT,
      payload: concatBytes(envelope, payload)
    }))))
    const tshark = spawnSync('tshark', [
      '-r', file, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,',
      ...FIELDS.flatMap((field) => ['-e', field])
    ], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(tshark.status, 0, tshark.stderr)
    return tshark.stdout.trimEnd().split('\n').map(parseLine)
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

function parseLine (line: string): Seen {
  const [protocols, version, oam, critical, protocolType, vni, lengths, classes, types, payload] = line.split('|')
  const list = (field: string): number[] => field === '' ? [] : field.split(',').map(Number)
  // the first length is the header's Opt Len, the others are the options'
  const [optionsBytes, ...optionBytes] = list(lengths)
  const optionClasses = list(classes)
  const optionTypes = list(types)
  return {
    protocols,
    version: Number(version),
    oam: flag(oam),
    critical: flag(critical),
    protocolType: Number(protocolType),
    vni: Number(vni),
    optionsBytes,
    options: optionBytes.map((bytes, index) => ({ optionClass: optionClasses[index], type: optionTypes[index], bytes })),
    payload
  }
}

/** tshark prints booleans as 1/0 or, in other versions, True/False. */
function flag (field: string): boolean {
  return field === '1' || field === 'True'
}

function expected (header: EnvelopeHeader, options: readonly RawOption[], payload = ''): Seen {
  const optionsBytes = options.reduce((sum, option) => sum + 4 + option.data.length, 0)
  return {
    protocols: `eth:ethertype:ip:udp:geneve${payload === '' ? '' : ':data'}`,
    version: 0,
    oam: header.oam,
    critical: options.some((option) => option.type >= 0x80),
    protocolType: header.protocolType,
    vni: header.vni,
    optionsBytes,
    options: options.map(({ optionClass, type, data }) => ({ optionClass, type, bytes: 4 + data.length })),
    payload
  }
}

describe('Wireshark reads what the codec writes', { skip }, () => {
  it('the SPEC.md examples, with a payload after the request and the OK response', () => {
    const payload = new TextEncoder().encode('SSH-2.0-OpenSSH_9.2\r\n')
    const payloadHex = Buffer.from(payload).toString('hex')
    const seen = dissect([
      { envelope: specExample('request'), payload },
      { envelope: specExample('response-ok'), payload },
      { envelope: specExample('response-unsupported-critical-option') }
    ])
    const agentmesh = (type: number, dataBytes: number): RawOption => ({ optionClass: 0xfffa, type, data: new Uint8Array(dataBytes) })
    assert.deepEqual(seen, [
      expected({ oam: false, protocolType: ProtocolType.SSH, vni: 42 }, [
        agentmesh(0x81, 4), agentmesh(0x03, 28), agentmesh(0x04, 16), agentmesh(0x05, 4), agentmesh(0x06, 4), agentmesh(0x07, 16)
      ], payloadHex),
      expected({ oam: false, protocolType: ProtocolType.SSH, vni: 42 }, [agentmesh(0x82, 8)], payloadHex),
      expected({ oam: true, protocolType: ProtocolType.NONE, vni: 42 }, [agentmesh(0x82, 20)])
    ])
  })

  it('random headers and options of every size, through the raw encoder', () => {
    const critical = fc.record({
      optionClass: fc.integer({ min: 0, max: 0xffff }),
      type: fc.integer({ min: 0x80, max: 0xff }),
      data: fc.integer({ min: 0, max: 31 }).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 }))
    })
    const envelope = fc.record({
      header: fc.record({
        oam: fc.boolean(),
        protocolType: fc.constantFrom(...Object.values(ProtocolType)),
        vni: fc.integer({ min: 0, max: 0xff_ffff })
      }),
      options: fc.array(fc.oneof(skippableOption, critical), { maxLength: 6 })
    }).filter(({ options }) => options.reduce((sum, option) => sum + 4 + option.data.length, 0) <= 252)
    const samples = fc.sample(envelope, { numRuns: 300, seed: 3 })
    const seen = dissect(samples.map(({ header, options }) => ({ envelope: encodeEnvelope(header, options) })))
    assert.deepEqual(seen, samples.map(({ header, options }) => expected(header, options)))
  })
})
