/** The few statistics the benchmarks report. */

/** The value at quantile `q` (0..1) of `values`, nearest rank; NaN for no values. */
export function quantile (values: number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

/** The median (the mean of the two middle values for an even count); NaN for no values. */
export function median (values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** `value` rounded to `digits` decimals. */
export function round (value: number, digits = 2): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

/** p50 and p99 of latencies in ms, rounded, with the sample count. */
export function latencySummary (values: number[]): { p50: number, p99: number, n: number } {
  return { p50: round(quantile(values, 0.5)), p99: round(quantile(values, 0.99)), n: values.length }
}

/** `order` rotated by `round`, so that no path always runs first (or last) in alternating rounds. */
export function rotate<T> (order: T[], round: number): T[] {
  const shift = round % order.length
  return [...order.slice(shift), ...order.slice(0, shift)]
}

/** Milliseconds since `start` (a `performance.now()` reading). */
export function since (start: number): number {
  return performance.now() - start
}
