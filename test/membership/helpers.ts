import type { Certificate, MembershipMessage, RevocationList } from '../../protocols/membership/index.ts'

/** A certificate with its peer id as text, for deepEqual (PeerId objects cache their text form). */
export function plainCertificate (certificate: Certificate): Record<string, unknown> {
  return { ...certificate, peerId: certificate.peerId.toString() }
}

export function plainList (list: RevocationList): Record<string, unknown> {
  return { ...list, entries: list.entries.map(({ peerId, serial }) => ({ peerId: peerId.toString(), serial })) }
}

export function plainMessage (message: MembershipMessage): Record<string, unknown> {
  switch (message.type) {
    case 'hello':
      return { type: 'hello', certificates: message.certificates.map(plainCertificate), revocations: message.revocations.map(plainList) }
    case 'revocations':
      return { type: 'revocations', lists: message.lists.map(plainList) }
    case 'certificate':
      return { type: 'certificate', certificate: plainCertificate(message.certificate) }
  }
}
