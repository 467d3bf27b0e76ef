import { printJson } from './command.ts'
import type { Command } from './command.ts'

export const unmapCommand: Command = {
  name: 'unmap',
  summary: 'remove a member\'s virtual address and the listeners on it',
  usage: '<name> [--json]',
  help: {
    examples: ['agentmesh unmap bob']
  },
  positionals: [1, 1],
  async run ({ client, json, positionals }) {
    const removed = await client.unmap(positionals[0])
    if (json) return printJson(removed)
    process.stdout.write(`unmapped ${removed.name}\n`)
  }
}
