import { AgentError } from './agent-errors.ts'

/**
 * `fetch` for reading a local agent at `expose` time: no redirect is followed (only the
 * service's own address is read, never where it points), every response body is cut off
 * past `maxBytes` with an AgentError, and `signal` bounds the whole exchange.
 */
export function boundedFetch (maxBytes: number, signal: AbortSignal): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, { ...init, redirect: 'manual', signal: init?.signal == null ? signal : AbortSignal.any([init.signal, signal]) })
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel()
      throw new AgentError(`${String(input)} answered with a redirect (${response.status}${response.headers.has('location') ? ` to ${response.headers.get('location') ?? ''}` : ''}): only the service's own address is read`)
    }
    if (response.body == null) return response
    let seen = 0
    const capped = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform (chunk, controller) {
        seen += chunk.byteLength
        if (seen > maxBytes) controller.error(new AgentError(`${String(input)} answered with more than ${maxBytes} bytes`))
        else controller.enqueue(chunk)
      }
    }))
    return new Response(capped, { status: response.status, statusText: response.statusText, headers: response.headers })
  }
}

/** What a failed read of a local agent says: the AgentError's message, else the network error's code, in one line. */
export function describeFetchError (err: any, what: string): string {
  if (err instanceof AgentError) return err.message
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `${what} did not answer in time`
  const cause = err?.cause?.code ?? err?.cause?.message ?? err?.code ?? err?.message ?? String(err)
  return `${what} cannot be read: ${String(cause).split('\n')[0]}`
}
