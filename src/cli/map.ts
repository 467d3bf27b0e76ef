import { optionText, printJson, printTable } from './command.ts'
import type { Command } from './command.ts'
import type { MapView } from '../control/api.ts'

export const mapCommand: Command = {
  name: 'map',
  summary: 'give a member a virtual loopback address (127.77.x.y) where each service it lets this node use listens on its own port; no name: list the maps',
  usage: '[<name>] [--network NAME] [--json]',
  help: {
    notes: 'Then curl http://<address>:8080/ or ssh <address> reach bob\'s services on their own ports.',
    flags: [
      ['--network NAME', 'the network the name is in']
    ],
    examples: ['agentmesh map bob --json', 'agentmesh map']
  },
  options: { network: { type: 'string' } },
  positionals: [0, 1],
  async run ({ client, json, values, positionals }) {
    const [name] = positionals
    if (name == null) {
      const maps = await client.maps()
      if (json) return printJson(maps)
      if (maps.length === 0) return void process.stdout.write('no member mapped: agentmesh map <name>\n')
      return printTable(['MEMBER', 'NETWORK', 'ADDRESS', 'SERVICES'], maps.map(map => [map.name, map.network, map.address, describePorts(map)]))
    }
    const map = await client.map(name, optionText(values.network))
    if (json) return printJson(map)
    process.stdout.write(`${map.name} is ${map.address}: ${describePorts(map) || 'no service this node may use'}\n`)
  }
}

function describePorts (map: MapView): string {
  return map.ports.map(port => `${port.service} on ${port.listen}${port.listening ? '' : ' (not listening)'}`).join(', ')
}
