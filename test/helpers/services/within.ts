/** Bounds a wait: `promise`, or a rejection naming `what` after `ms`. */
export async function within<T> (what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`timed out after ${ms} ms waiting for ${what}`)) }, ms) })
    ])
  } finally {
    clearTimeout(timer)
  }
}
