/**
 * The errors of member records that the membership codec does not already
 * have. All extend MembershipError, so one `instanceof` covers every error
 * the records codec throws (the certificate inside a record throws the
 * membership errors). Tell them apart by `name` (SPEC.md, "Errors").
 */

import { MembershipError } from '../membership/errors.ts'

/** The record's expiresAt has passed. */
export class ExpiredRecordError extends MembershipError {
  override readonly name: string = 'ExpiredRecordError'
}

/** The record's expiresAt is more than MAX_RECORD_TTL_SECONDS ahead. */
export class TtlTooLongError extends MembershipError {
  override readonly name: string = 'TtlTooLongError'
}

/** The DHT key the record is stored under is not the key of its certificate's network and name. */
export class KeyMismatchError extends MembershipError {
  override readonly name: string = 'KeyMismatchError'
}

/** The record's certificate names another member than the name the reader looked up. */
export class NameMismatchError extends MembershipError {
  override readonly name: string = 'NameMismatchError'
}
