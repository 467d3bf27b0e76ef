import { optionText, printJson, printTable, UsageError } from './command.ts'
import type { Command } from './command.ts'

export const networkCommand: Command = {
  name: 'network',
  summary: 'create a network this node administers (init), or list the networks it is in (ls)',
  usage: 'init <name> [--member-name NAME] | ls [--json]',
  help: {
    notes: 'init keeps the network key in network-keys/<name>.key (mode 0600): back it up like a CA key.',
    flags: [
      ['--member-name NAME', 'with init: this node\'s own name in the network (default: its name, else admin)']
    ],
    examples: ['agentmesh network init fleet', 'agentmesh network ls --json']
  },
  options: { 'member-name': { type: 'string' } },
  positionals: [1, 2],
  async run ({ client, json, values, positionals }) {
    const [action, name] = positionals
    if (action === 'ls') {
      const networks = await client.networks()
      if (json) return printJson(networks)
      if (networks.length === 0) return void process.stdout.write('in no network: agentmesh network init <name>, or agentmesh join <token>\n')
      return printTable(['NETWORK', 'VNI', 'ROLE', 'EXPIRES', 'REVOCATIONS'], networks.map(network => [
        network.name, String(network.vni), network.admin ? 'admin (holds the key)' : network.role, network.expires, `v${network.revocationsVersion}`
      ]))
    }
    if (action !== 'init') throw new UsageError(`unknown network action '${action}': expected init or ls`)
    if (name == null) throw new UsageError('network init needs a name')
    const network = await client.createNetwork(name, optionText(values['member-name']))
    if (json) return printJson(network)
    process.stdout.write(`network ${network.name} created: VNI ${network.vni}, this node is its admin\n`)
    process.stderr.write(`invite a node with: agentmesh invite <its peer id> --name <name> [--groups a,b]\n`)
  }
}
