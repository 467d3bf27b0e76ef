import { printJson } from './command.ts'
import type { Command } from './command.ts'

export const hostsCommand: Command = {
  name: 'hosts',
  summary: 'print /etc/hosts lines for the mapped members: <address> <name>.<network>.mesh',
  usage: '[--json]',
  help: {
    examples: ['agentmesh hosts', 'agentmesh hosts | sudo tee -a /etc/hosts']
  },
  async run ({ client, json }) {
    const lines = await client.hosts()
    if (json) return printJson(lines)
    for (const line of lines) process.stdout.write(`${line}\n`)
  }
}
