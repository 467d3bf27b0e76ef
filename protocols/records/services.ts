import { compareBytes, decodeText, encodeText } from '../membership/fields.ts'
import { MalformedFieldError, TooLargeError } from '../membership/errors.ts'
import { MAX_PUBLISHED_SERVICES, MAX_SERVICE_NAME_BYTES, PROTO_CODES, SERVICE_NAME_PATTERN } from './constants.ts'
import type { Reader, Writer } from '../membership/bytes.ts'
import type { PublishedService, ServiceProto } from './types.ts'

const PROTOS = Object.keys(PROTO_CODES) as ServiceProto[]

/**
 * A list of services as records and the services protocol carry it: u8 count, then
 * each u8 name length, name, u8 protocol code, u16 port; sorted by name bytes, no name
 * twice. `subject` begins the message of a count over the cap.
 */
export function writeServices (writer: Writer, services: PublishedService[], subject: string): void {
  if (!Array.isArray(services)) throw new MalformedFieldError('the services are not a list')
  if (services.length > MAX_PUBLISHED_SERVICES) {
    throw new TooLargeError(`${subject} ${services.length} services; at most ${MAX_PUBLISHED_SERVICES} are allowed`)
  }
  const sorted = services
    .map((service: PublishedService) => ({ name: checkServiceName(service?.name), code: protoCode(service?.proto), port: service?.port }))
    .sort((a, b) => compareBytes(encodeText(a.name), encodeText(b.name)))
  writer.u8(sorted.length)
  let previous: string | undefined
  for (const { name, code, port } of sorted) {
    checkOrder(previous, name)
    writer.prefixed(encodeText(name), 1).u8(code).u16(checkPort(port, name))
    previous = name
  }
}

/** Reads what `writeServices` wrote; `subject` begins the message of a count over the cap, e.g. "the member record publishes". */
export function readServices (reader: Reader, subject: string): PublishedService[] {
  const count = reader.u8('service count')
  if (count > MAX_PUBLISHED_SERVICES) {
    throw new TooLargeError(`${subject} ${count} services; at most ${MAX_PUBLISHED_SERVICES} are allowed`)
  }
  const services: PublishedService[] = []
  for (let i = 0; i < count; i++) {
    const name = checkServiceName(decodeText(reader.prefixed(1, MAX_SERVICE_NAME_BYTES, 'service name', MalformedFieldError), 'service name'))
    checkOrder(services.at(-1)?.name, name)
    const proto = protoFromCode(reader.u8('service protocol'))
    const port = checkPort(reader.u16('service port'), name)
    services.push({ name, proto, port })
  }
  return services
}

function checkServiceName (name: unknown): string {
  if (typeof name !== 'string' || !SERVICE_NAME_PATTERN.test(name)) {
    throw new MalformedFieldError(`the service name ${JSON.stringify(name)} is not 1 to ${MAX_SERVICE_NAME_BYTES} ASCII letters, digits, '.', '_' and '-', starting with a letter or digit`)
  }
  return name
}

function protoCode (proto: unknown): number {
  if (typeof proto !== 'string' || !Object.hasOwn(PROTO_CODES, proto)) {
    throw new MalformedFieldError(`the service protocol ${JSON.stringify(proto)} is not one of ${PROTOS.join(', ')}`)
  }
  return PROTO_CODES[proto as ServiceProto]
}

function protoFromCode (code: number): ServiceProto {
  const proto = PROTOS.find((name) => PROTO_CODES[name] === code)
  if (proto === undefined) {
    throw new MalformedFieldError(`the service protocol byte ${code} is not 0 (tcp), 1 (http), 2 (grpc) or 3 (ssh)`)
  }
  return proto
}

function checkPort (port: unknown, service: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 0xffff) {
    throw new MalformedFieldError(`the port ${String(port)} of service "${service}" is not an integer from 1 to 65535`)
  }
  return port
}

/** Services must be strictly increasing by name bytes: sorted, no name twice. */
function checkOrder (previous: string | undefined, name: string): void {
  if (previous === undefined) return
  const order = compareBytes(encodeText(previous), encodeText(name))
  if (order === 0) throw new MalformedFieldError(`the service "${name}" appears twice`)
  if (order > 0) throw new MalformedFieldError(`the service "${name}" comes after "${previous}": services are sorted by name`)
}

