import type { Command } from './command.ts'

export const startCommand: Command = {
  name: 'start',
  summary: 'run the daemon (the first node of a new mesh, or one joining through --bootstrap)',
  usage: '[--bootstrap MULTIADDR]... [--listen MULTIADDR]... [--announce MULTIADDR]... [--relay] [--name NAME] [--config FILE] [--dht-mode auto|server|client] [--log-level LEVEL] [--log-format auto|pretty|json] [--metrics HOST:PORT] [--webhook URL]',
  help: {
    notes: 'Runs in the foreground until SIGINT or SIGTERM. Settings also come from AGENTMESH_* variables and the config file; flags win.',
    flags: [
      ['--bootstrap MULTIADDR', 'a node to join through, ending in /p2p/<peer id> (repeatable); none: the first node of a new mesh'],
      ['--listen MULTIADDR', 'an address to listen on (repeatable; default /ip4/0.0.0.0/tcp/4733 and /ip6/::/tcp/4733)'],
      ['--announce MULTIADDR', 'an address to advertise instead, such as a relay\'s public one (repeatable)'],
      ['--relay', 'also serve as a relay (circuit relay v2 and STUN) for nodes behind NAT'],
      ['--name NAME', 'this node\'s name'],
      ['--config FILE', 'a JSON config file (default: config.json in the data directory)'],
      ['--dht-mode auto|server|client', 'whether this node serves the DHT'],
      ['--log-level LEVEL', 'trace, debug, info, warn, error, fatal or silent'],
      ['--log-format auto|pretty|json', 'log lines on stderr'],
      ['--metrics HOST:PORT', 'serve Prometheus metrics at /metrics'],
      ['--webhook URL', 'POST every event to this URL']
    ],
    examples: ['agentmesh start', 'agentmesh start --bootstrap /ip4/192.168.1.20/tcp/4733/p2p/12D3KooW...', 'agentmesh start --relay --announce /ip4/203.0.113.7/tcp/4733']
  },
  options: {
    bootstrap: { type: 'string', multiple: true },
    listen: { type: 'string', multiple: true },
    announce: { type: 'string', multiple: true },
    relay: { type: 'boolean' },
    name: { type: 'string' },
    config: { type: 'string' },
    'dht-mode': { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    metrics: { type: 'string' },
    webhook: { type: 'string' }
  },
  async run ({ values, dataDir }) {
    // loaded here so that the client commands do not pay for libp2p
    const { runDaemon } = await import('../daemon/run.ts')
    await runDaemon({
      dataDir,
      configFile: values.config as string | undefined,
      flags: compact({
        bootstrap: values.bootstrap,
        listen: values.listen,
        announce: values.announce,
        name: values.name,
        relay: compact({ enabled: values.relay }),
        dht: compact({ mode: values['dht-mode'] }),
        log: compact({ level: values['log-level'], format: values['log-format'] }),
        metrics: compact({ listen: values.metrics }),
        events: compact({ webhook: values.webhook })
      })
    })
  }
}

/** Drops the keys whose value is unset or empty, so that they do not override lower layers. */
function compact (object: Record<string, unknown>): Record<string, any> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value != null && !(typeof value === 'object' && Object.keys(value).length === 0)))
}
