/** An error's message; transports sometimes reject with an Event or a string instead of an Error. */
export function describeError (err: unknown): string {
  if (err instanceof Error) return err.message
  if (typeof Event !== 'undefined' && err instanceof Event) return `${err.type} event: ${String((err as any).error?.message ?? (err as any).message ?? 'no detail')}`
  return String(err)
}
