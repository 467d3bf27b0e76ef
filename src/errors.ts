/**
 * The base of every error the daemon says to the user: a bad argument, a name it does
 * not know, a state it refuses (a data directory others can write, a daemon already
 * running). Its message is one line that says what to do; the control API answers it
 * with 400 and the subclass's `name` as the code, and the CLI prints the message. Only
 * its subclasses are thrown; tell them apart by `name`.
 */
export class UserError extends Error {}

/** An error's message; transports sometimes reject with an Event or a string instead of an Error. */
export function describeError (err: unknown): string {
  if (err instanceof Error) return err.message
  if (typeof Event !== 'undefined' && err instanceof Event) return `${err.type} event: ${String((err as any).error?.message ?? (err as any).message ?? 'no detail')}`
  return String(err)
}
