import { printFields, printJson } from './command.ts'
import type { Command } from './command.ts'

export const idCommand: Command = {
  name: 'id',
  summary: 'print this node\'s peer id and addresses',
  usage: '[--json]',
  help: {
    examples: ['agentmesh id', 'agentmesh id --json']
  },
  async run ({ client, json }) {
    const id = await client.id()
    if (json) return printJson(id)
    printFields([['peer id', id.peerId], ['addresses', id.addresses]])
  }
}
