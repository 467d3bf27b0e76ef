import type { AddressManager, NodeAddress } from '@libp2p/interface-internal'

/** Read access to the address manager, which libp2p keeps internal: reachability needs each address's verification state. */
export interface AddressView {
  addresses(): NodeAddress[]
}

export function addressView (): (components: { addressManager: AddressManager }) => AddressView {
  return ({ addressManager }) => ({
    addresses: () => addressManager.getAddressesWithMetadata()
  })
}
