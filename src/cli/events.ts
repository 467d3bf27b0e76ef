import { UsageError } from './command.ts'
import type { Command } from './command.ts'
import type { MeshEvent } from '../control/api.ts'

export const eventsCommand: Command = {
  name: 'events',
  summary: 'stream what happens on the node (peers, paths, relays, tunnel failures, trust) until interrupted',
  usage: '[--json] [--since SEQ]',
  help: {
    notes: 'Runs until interrupted.',
    flags: [
      ['--since SEQ', 'first replay the events after SEQ that the daemon still keeps (0: all of the last 500)']
    ],
    examples: ['agentmesh events', 'agentmesh events --json --since 0']
  },
  options: { since: { type: 'string' } },
  async run ({ client, json, values }) {
    const since = values.since == null ? undefined : Number(values.since)
    if (since != null && (!Number.isInteger(since) || since < 0)) throw new UsageError('--since must be a whole number, 0 or more (0: every event the daemon still keeps)')
    for await (const event of client.events(since)) {
      process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${describeEvent(event)}\n`)
    }
    throw new Error('the daemon closed the event stream (it stopped?)')
  }
}

/** `12:00:01.234 peer.connected peer=12D3... connection=direct transport=tcp` */
export function describeEvent (event: MeshEvent): string {
  const { seq, time, type, ...fields } = event
  const text = Object.entries(fields).map(([key, value]) => `${key}=${typeof value === 'object' ? Object.values(value as object).join('/') : String(value)}`)
  return [time.slice(11, 23), type, ...text].join(' ')
}
