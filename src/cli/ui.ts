import { printJson } from './command.ts'
import type { Command } from './command.ts'

export const uiCommand: Command = {
  name: 'ui',
  summary: 'print the URL of the node\'s live dashboard (loopback only; the URL carries a secret made at each start)',
  usage: '[--json]',
  help: {
    examples: ['agentmesh ui', 'agentmesh ui --json']
  },
  async run ({ client, json }) {
    const { url } = await client.ui()
    if (json) printJson({ url })
    else process.stdout.write(`${url}\n`)
    if (!json && process.stderr.isTTY) process.stderr.write('open it in a browser on this machine; anyone with the URL can watch this node until it restarts\n')
  }
}
