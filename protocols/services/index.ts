/**
 * @packageDocumentation
 *
 * `/agentmesh/services/1.0.0`: a member asks another which of its services it may use in
 * a network (published or not, after the answering node's grants) and gets its signed
 * member record with the answer. `map` and `services --all` use it. SPEC.md is the
 * normative text.
 */
export { MAX_ANSWER_BYTES, QUERY_TIMEOUT_MS, SERVICES_PROTOCOL } from './constants.ts'
export { decodeAnswer, decodeQuery, encodeAnswer, encodeQuery } from './codec.ts'
export { queryServices, servicesHandler } from './query.ts'
export type { ServicesAnswer, ServicesQuery } from './codec.ts'
export type { ServicesHandlerComponents } from './query.ts'
