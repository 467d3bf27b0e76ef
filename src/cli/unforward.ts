import type { Command } from './command.ts'

export const unforwardCommand: Command = {
  name: 'unforward',
  summary: 'stop listening on a forwarded port (tunnels already open run to their end)',
  usage: '<[host:]port>',
  help: {
    examples: ['agentmesh unforward 2222', 'agentmesh unforward 127.0.0.1:8080']
  },
  positionals: [1, 1],
  async run ({ client, positionals }) {
    await client.unforward(positionals[0])
    process.stdout.write(`unforwarded ${positionals[0]}\n`)
  }
}
