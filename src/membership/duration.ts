const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 }

/** The longest validity a certificate may be given: ten years, as certificates of long-lived hosts commonly are. */
export const MAX_TTL_SECONDS = 10 * UNITS.y

/** `30d`, `12h`, `90m`, `45s`, `2w`, `1y` (a bare number is seconds) as seconds; throws a one-line message otherwise. */
export function parseDuration (text: string): number {
  const match = /^(\d+)([smhdwy]?)$/.exec(text.trim())
  const seconds = match == null ? NaN : Number(match[1]) * UNITS[match[2] === '' ? 's' : match[2]]
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_TTL_SECONDS) {
    throw new Error(`"${text}" is not a duration from 1s to 10y (e.g. 30d, 12h, 90m)`)
  }
  return seconds
}
