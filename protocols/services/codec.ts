import { Reader, Writer } from '../membership/bytes.ts'
import { checkVni } from '../membership/fields.ts'
import { TrailingBytesError, UnsupportedVersionError } from '../membership/errors.ts'
import { MAX_MEMBER_RECORD_BYTES, readServices, writeServices } from '../records/index.ts'
import { SERVICES_FORMAT_VERSION } from './constants.ts'
import type { PublishedService } from '../records/index.ts'

/** The caller asks about one virtual network: 0 is the allowlist's. */
export interface ServicesQuery {
  vni: number
}

export interface ServicesAnswer {
  /** the member record of the answering node in that network (empty for VNI 0) */
  record: Uint8Array
  /** the services the caller may use there, published or not */
  usable: PublishedService[]
}

export function encodeQuery ({ vni }: ServicesQuery): Uint8Array {
  return new Writer().u8(SERVICES_FORMAT_VERSION).u24(vni === 0 ? 0 : checkVni(vni)).finish()
}

export function decodeQuery (bytes: Uint8Array): ServicesQuery {
  const reader = new Reader(bytes, 'the services query')
  checkVersion(reader.u8('format version'), 'query')
  const vni = reader.u24('VNI')
  done(reader, 'query')
  return { vni }
}

export function encodeAnswer ({ record, usable }: ServicesAnswer): Uint8Array {
  const writer = new Writer().u8(SERVICES_FORMAT_VERSION).prefixed(record, 2)
  writeServices(writer, usable, 'the answer lists')
  return writer.finish()
}

export function decodeAnswer (bytes: Uint8Array): ServicesAnswer {
  const reader = new Reader(bytes, 'the services answer')
  checkVersion(reader.u8('format version'), 'answer')
  const record = reader.prefixed(2, MAX_MEMBER_RECORD_BYTES, 'member record')
  const usable = readServices(reader, 'the answer lists')
  done(reader, 'answer')
  return { record, usable }
}

function checkVersion (version: number, what: string): void {
  if (version !== SERVICES_FORMAT_VERSION) throw new UnsupportedVersionError(`the services ${what} has format version ${version}; this node reads ${SERVICES_FORMAT_VERSION}`)
}

function done (reader: Reader, what: string): void {
  if (reader.remaining > 0) throw new TrailingBytesError(`${reader.remaining} extra bytes after the services ${what}`)
}
