import { printJson } from './command.ts'
import type { Command } from './command.ts'
import type { ForwardView } from '../forward/forward-manager.ts'

export const forwardCommand: Command = {
  name: 'forward',
  summary: 'listen on a local port and tunnel each connection to <peer>/<service>',
  usage: '<[host:]port> <peer>/<service> [--network NAME] [--json]',
  options: { network: { type: 'string' } },
  positionals: [2, 2],
  async run ({ client, json, values, positionals }) {
    const [listen, target] = positionals
    const forward = await client.post<ForwardView>('/forwards', { listen, target, network: values.network })
    if (json) return printJson(forward)
    process.stdout.write(`forwarding ${forward.listen} -> ${forward.peer}/${forward.service}\n`)
  }
}
