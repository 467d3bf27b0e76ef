export * from './constants.ts'
export {
  decodeXorMappedAddress, encodeBindingSuccess, encodeUnknownAttributeError, InvalidMappedAddressError,
  parseBindingRequest, readMessage
} from './message.ts'
export type { Attribute, BindingRequest, Ignore, MappedAddress, StunMessage } from './message.ts'
export { StunServer } from './server.ts'
export type { StunCounters, StunServerInit } from './server.ts'
