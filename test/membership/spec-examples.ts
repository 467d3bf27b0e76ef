/**
 * Prints the worked examples of protocols/membership/SPEC.md section 8,
 * annotated field by field: `node test/membership/spec-examples.ts`. The
 * tests check the SPEC's blocks byte for byte against the codec, so run this
 * and paste its output when a layout changes.
 */

import { multiaddr } from '@multiformats/multiaddr'
import { annotate, split } from '../helpers/spec-corpus.ts'
import {
  encodeMessage, encodeToken, signCertificate, signRevocationList
} from '../../protocols/membership/index.ts'
import { certificateExample, keys, revocationListExample, tokenAddresses } from './vectors.ts'

const { network, bob, mallory, alice } = await keys()
const certificate = await signCertificate(await certificateExample(), network)
const list = await signRevocationList(await revocationListExample(), network)
const addresses = await tokenAddresses()

const certificateLayout: Array<[number, string]> = [
  [1, 'format version 1'],
  [1, 'network name length 5'], [5, '"fleet"'],
  [32, 'network key (seed 01 x 32)'],
  [3, 'VNI 48879 (0x00BEEF)'],
  [1, 'peer id length 38'], [38, `peer id ${bob} (seed 02 x 32)`],
  [1, 'name length 3'], [3, '"bob"'],
  [1, 'group count 2'], [1, 'group length 3'], [3, '"ops"'], [1, 'group length 3'], [3, '"gpu"'],
  [1, 'role 0 member'],
  [8, `notBefore ${certificate.notBefore} (2026-01-01T00:00:00Z)`],
  [8, `notAfter ${certificate.notAfter} (2026-01-31T00:00:00Z)`],
  [8, 'serial 1'],
  [64, 'signature: Ed25519 of "agentmesh certificate v1" 00 and the bytes above']
]

const entries = list.entries.map((entry) => [entry.peerId.equals(mallory) ? 'mallory (seed 05 x 32)' : 'bob (seed 02 x 32)', entry.serial] as const)
const listLayout: Array<[number, string]> = [
  [1, 'format version 1'],
  [32, 'network key (seed 01 x 32)'],
  [8, 'list version 3'],
  [2, 'entry count 2'],
  ...entries.flatMap(([who, serial]): Array<[number, string]> => [
    [1, 'peer id length 38'], [38, `peer id of ${who}`], [8, `serial ${serial}${serial === 0n ? ': every certificate' : ''}`]
  ]),
  [64, 'signature: Ed25519 of "agentmesh revocations v1" 00 and the bytes above']
]

const addressBytes = addresses.map((address) => multiaddr(address).bytes)
const tokenLayout: Array<[number, string]> = [
  [1, 'token format version 1'],
  [2, `certificate length ${certificate.bytes.length}`],
  ...certificateLayout.map(([length, comment]): [number, string] => [length, `  certificate: ${comment}`]),
  [1, `address count ${addresses.length}`],
  ...addresses.flatMap((address, i): Array<[number, string]> => [[2, `address length ${addressBytes[i].length}`], [addressBytes[i].length, address.replace(alice.toString(), '<alice>')]])
]

const token = encodeToken({ certificate, addresses })
const tokenBytes = Uint8Array.from(Buffer.from(token.slice('amtok1_'.length), 'base64url'))

const hello = encodeMessage({ type: 'hello', certificates: [], revocations: [] })

console.log('```hex example=certificate')
console.log(annotate(split(certificate.bytes, certificateLayout)))
console.log('```\n')
console.log('```hex example=revocation-list')
console.log(annotate(split(list.bytes, listLayout)))
console.log('```\n')
console.log('```hex example=token-payload')
console.log(annotate(split(tokenBytes, tokenLayout)))
console.log('```\n')
console.log('```text example=token')
console.log(token)
console.log('```\n')
console.log('```hex example=empty-hello')
console.log(annotate(split(hello, [[1, 'type 1 hello'], [4, 'body length 2'], [1, 'certificate count 0'], [1, 'revocation list count 0']])))
console.log('```')
