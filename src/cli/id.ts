import { printFields, printJson } from './command.ts'
import type { Command } from './command.ts'
import type { IdView } from '../daemon/views.ts'

export const idCommand: Command = {
  name: 'id',
  summary: 'print this node\'s peer id and addresses',
  usage: '[--json]',
  async run ({ client, json }) {
    const id = await client.get<IdView>('/id')
    if (json) return printJson(id)
    printFields([['peer id', id.peerId], ['addresses', id.addresses]])
  }
}
