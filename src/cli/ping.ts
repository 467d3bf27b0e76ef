import { MAX_PING_COUNT } from '../control/protocol.ts'
import { printJson, UsageError } from './command.ts'
import type { Command } from './command.ts'
import type { PingReply } from '../control/api.ts'

export const pingCommand: Command = {
  name: 'ping',
  summary: 'measure the round trip to a peer (peer id or multiaddr) over libp2p ping',
  usage: '<peer> [--count N] [--json]',
  help: {
    flags: [
      ['--count N', 'pings to send (default 3)']
    ],
    examples: ['agentmesh ping 12D3KooW...', 'agentmesh ping /ip4/127.0.0.1/tcp/4734/p2p/12D3KooW... --count 10']
  },
  options: { count: { type: 'string', short: 'c', default: '3' } },
  positionals: [1, 1],
  async run ({ client, json, values, positionals }) {
    const count = Number(values.count)
    if (!Number.isInteger(count) || count < 1 || count > MAX_PING_COUNT) {
      throw new UsageError(`--count must be a whole number from 1 to ${MAX_PING_COUNT}`)
    }
    const peer = positionals[0]
    const replies: PingReply[] = []
    for await (const reply of client.ping(peer, count)) {
      replies.push(reply)
      if (!json) process.stdout.write('rttMs' in reply ? `seq=${reply.seq} rtt=${reply.rttMs} ms\n` : `seq=${reply.seq} error: ${reply.error}\n`)
    }
    const rtts = replies.flatMap(reply => 'rttMs' in reply ? [reply.rttMs] : [])
    const summary = {
      peer,
      sent: replies.length,
      received: rtts.length,
      rttMs: rtts,
      ...(rtts.length > 0 && {
        minMs: Math.min(...rtts),
        avgMs: Math.round(rtts.reduce((sum, rtt) => sum + rtt, 0) / rtts.length * 100) / 100,
        maxMs: Math.max(...rtts)
      })
    }
    if (json) printJson(summary)
    else process.stdout.write(`${summary.sent} sent, ${summary.received} received${rtts.length > 0 ? `, rtt min/avg/max ${summary.minMs}/${summary.avgMs}/${summary.maxMs} ms` : ''}\n`)
    if (rtts.length === 0) process.exitCode = 1
  }
}
