import type { ConnectionEncrypter } from '@libp2p/interface'
import type { TLSComponents } from '@libp2p/tls'

/** libp2p's TLS 1.3 handshake protocol id (@libp2p/tls's PROTOCOL, which cannot be imported without loading it) */
export const TLS_PROTOCOL = '/tls/1.0.0'

/**
 * @libp2p/tls, loaded on its first handshake. Noise leads the encrypters, so most
 * daemons never run TLS; its certificate and ASN.1 libraries (about 0.6 MiB of source)
 * are then never loaded.
 */
export function lazyTls (): (components: TLSComponents) => ConnectionEncrypter {
  return components => {
    let encrypter: Promise<ConnectionEncrypter> | undefined
    const load = async (): Promise<ConnectionEncrypter> => {
      encrypter ??= import('@libp2p/tls').then(({ tls }) => tls()(components))
      return encrypter
    }
    return {
      protocol: TLS_PROTOCOL,
      secureInbound: async (connection, options) => (await load()).secureInbound(connection, options),
      secureOutbound: async (connection, options) => (await load()).secureOutbound(connection, options)
    }
  }
}
