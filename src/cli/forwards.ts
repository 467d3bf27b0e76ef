import { printJson, printTable } from './command.ts'
import { formatFailures } from './services.ts'
import type { Command } from './command.ts'

export const forwardsCommand: Command = {
  name: 'forwards',
  summary: 'list the local port forwards, with their counters',
  usage: '[--json]',
  help: {
    examples: ['agentmesh forwards', 'agentmesh forwards --json']
  },
  async run ({ client, json }) {
    const forwards = await client.forwards()
    if (json) return printJson(forwards)
    if (forwards.length === 0) return void process.stdout.write('no forwards: agentmesh forward <[host:]port> <peer>/<service>\n')
    printTable(['LISTEN', 'TARGET', 'ACTIVE', 'TOTAL', 'IN', 'OUT', 'FAILURES'], forwards.map(forward => [
      `${forward.listen}${forward.gateway ? ' (gateway)' : ''}${forward.listening ? '' : ' (not listening)'}`, `${forward.peer}/${forward.service}`,
      String(forward.active), String(forward.connections), String(forward.bytesIn), String(forward.bytesOut), formatFailures(forward.failures)
    ]))
  }
}
