import type { Command } from './command.ts'

export const unexposeCommand: Command = {
  name: 'unexpose',
  summary: 'stop offering a service (tunnels already open run to their end)',
  usage: '<service>',
  help: {
    examples: ['agentmesh unexpose web']
  },
  positionals: [1, 1],
  async run ({ client, positionals }) {
    await client.unexpose(positionals[0])
    process.stdout.write(`unexposed ${positionals[0]}\n`)
  }
}
