/**
 * The control API: HTTP/JSON over the unix socket in the data directory. Errors are
 * `{ "error": { "code", "message" } }` with a 4xx/5xx status; streamed answers are
 * JSON lines (`application/x-ndjson`), one object per line.
 */
export const API_PREFIX = '/v1'

/** `POST /ping` sends at most this many pings */
export const MAX_PING_COUNT = 1000

export interface ApiErrorBody {
  error: { code: string, message: string }
}

export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  readonly code: string

  constructor (status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'BAD_REQUEST', message)
export const notFound = (message: string): ApiError => new ApiError(404, 'NOT_FOUND', message)
