import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fromString } from 'uint8arrays/from-string'
import {
  decodeCertificate, decodeRevocationList, decodeToken, encodeMessage, encodeToken, MessageDecoder, signCertificate,
  signRevocationList, TOKEN_PREFIX, verifyCertificate, verifyRevocationList
} from '../../protocols/membership/index.ts'
import { certificateExample, keys, NOW, revocationListExample, specExamples, tokenAddresses } from './vectors.ts'
import { plainCertificate, plainList } from './helpers.ts'

function example (name: string): Uint8Array {
  const value = specExamples().get(name)
  assert.ok(value instanceof Uint8Array, `SPEC.md has no hex example ${name}`)
  return value
}

describe('SPEC.md worked examples', () => {
  it('lists exactly the examples the tests know', () => {
    assert.deepEqual([...specExamples().keys()].sort(), ['certificate', 'empty-hello', 'revocation-list', 'token', 'token-payload'])
  })

  it('8.1: signing the certificate gives the SPEC bytes; they decode to the fields and verify', async () => {
    const { network, bob } = await keys()
    const fields = await certificateExample()
    const signed = await signCertificate(fields, network)
    assert.deepEqual(signed.bytes, example('certificate'))
    const decoded = decodeCertificate(example('certificate'))
    assert.deepEqual(plainCertificate(decoded), plainCertificate(signed))
    assert.deepEqual(plainCertificate(decoded), { ...plainCertificate({ ...fields, signature: signed.signature, bytes: signed.bytes }) })
    await verifyCertificate(decoded, { now: NOW, networkKey: network.publicKey.raw, peer: bob })
  })

  it('8.2: signing the list (entries given unsorted) gives the SPEC bytes; they decode and verify', async () => {
    const { network, bob, mallory } = await keys()
    const fields = await revocationListExample()
    const signed = await signRevocationList({ ...fields, entries: [...fields.entries].reverse() }, network)
    assert.deepEqual(signed.bytes, example('revocation-list'))
    const decoded = decodeRevocationList(example('revocation-list'))
    assert.deepEqual(plainList(decoded), plainList(signed))
    assert.deepEqual(decoded.entries.map(({ peerId, serial }) => [peerId.toString(), serial]), [[mallory.toString(), 0n], [bob.toString(), 1n]])
    await verifyRevocationList(decoded, network.publicKey.raw)
  })

  it('8.3: the token is the prefix and the base64url of the SPEC payload, and decodes to the invite', async () => {
    const { network } = await keys()
    const certificate = await signCertificate(await certificateExample(), network)
    const addresses = await tokenAddresses()
    const token = encodeToken({ certificate, addresses })
    assert.equal(token, specExamples().get('token'))
    assert.deepEqual(fromString(token.slice(TOKEN_PREFIX.length), 'base64url'), example('token-payload'))
    const invite = decodeToken(`\n  ${token}\r\n`)
    assert.deepEqual(invite.addresses, addresses)
    assert.deepEqual(plainCertificate(invite.certificate), plainCertificate(certificate))
  })

  it('8.4: the empty hello', () => {
    assert.deepEqual(encodeMessage({ type: 'hello', certificates: [], revocations: [] }), example('empty-hello'))
    assert.deepEqual(new MessageDecoder().push(example('empty-hello')), { type: 'hello', certificates: [], revocations: [] })
  })
})
