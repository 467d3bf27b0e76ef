/**
 * Envelope codec throughput for a typical request (informational):
 * `npm run bench -- envelope`, or `node bench/envelope.ts [seconds per measurement, default 1]`.
 * A typical request names its service and carries trace context, a deadline,
 * a routing hint and one metadata pair (76 bytes of options, 84 in all).
 */

import { encodeRequest, ProtocolType, requestDecoder, RoutingHint } from '../protocols/envelope/index.ts'
import type { RequestInit } from '../protocols/envelope/index.ts'

const typicalRequest: RequestInit = {
  service: 'ssh',
  vni: 42,
  protocolType: ProtocolType.SSH,
  trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 },
  deadline: 30_000,
  routing: RoutingHint.RELAY_ALLOWED,
  metadata: { agent: 'planner' }
}

const seconds = Number(process.argv[2] ?? 1)
if (!(seconds > 0 && seconds <= 60)) {
  throw new Error(`seconds per measurement must be in (0, 60], got ${process.argv[2]}`)
}

/** Calls `operation` in batches for about `seconds`, after a warm-up; returns operations per second. */
function measure (operation: () => unknown): number {
  const batch = 1_000
  const run = (budgetMs: number): number => {
    const start = performance.now()
    let operations = 0
    while (performance.now() - start < budgetMs) {
      for (let i = 0; i < batch; i++) operation()
      operations += batch
    }
    return operations / ((performance.now() - start) / 1_000)
  }
  run(Math.min(200, seconds * 200)) // warm-up: let the JIT settle
  return run(seconds * 1_000)
}

const envelope = encodeRequest(typicalRequest)
const results = {
  envelopeBytes: envelope.length,
  secondsPerMeasurement: seconds,
  encodeOpsPerSecond: Math.round(measure(() => encodeRequest(typicalRequest))),
  decodeOpsPerSecond: Math.round(measure(() => requestDecoder().push(envelope)))
}
// the output every bench part prints (bench/lib/part.ts); no targets here
console.log(JSON.stringify({ results, targets: [] }, null, 2))
