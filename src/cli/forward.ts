import { optionText, printJson } from './command.ts'
import type { Command } from './command.ts'

export const forwardCommand: Command = {
  name: 'forward',
  summary: 'listen on a local port and tunnel each connection to <peer>/<service>',
  usage: '<[host:]port> <peer>/<service> [--network NAME] [--gateway|-g] [--json]',
  help: {
    notes: 'PEER is a peer id, a trusted or member name, or * (any member that publishes the service, nearest first). Port 0 takes a free port.',
    flags: [
      ['--network NAME', 'reach the service in this network (default: the first both nodes are in, else the allowlist)'],
      ['--gateway, -g', 'allow a non-loopback listen address, as ssh -g']
    ],
    examples: ['agentmesh forward 2222 bob/ssh', 'agentmesh forward 127.0.0.1:8080 12D3KooW.../web', 'agentmesh forward 0 \'*/inference\' --json']
  },
  positionals: [2, 2],
  options: {
    network: { type: 'string' },
    // as ssh -g: without it, only a loopback address may be given
    gateway: { type: 'boolean', short: 'g' }
  },
  async run ({ client, json, positionals, values }) {
    const [listen, target] = positionals
    const forward = await client.forward({ listen, target, network: optionText(values.network), ...(values.gateway === true && { gateway: true }) })
    if (json) return printJson(forward)
    process.stdout.write(`forwarding ${forward.listen} -> ${forward.peer}/${forward.service}${forward.gateway ? ' (gateway: open to other hosts)' : ''}\n`)
  }
}
