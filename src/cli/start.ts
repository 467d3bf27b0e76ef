import { execWithDaemonFlags } from '../daemon/v8-flags.ts'
import type { Command } from './command.ts'

export const startCommand: Command = {
  name: 'start',
  summary: 'run the daemon (the first node of a new mesh, or one joining through --bootstrap)',
  usage: '[--bootstrap MULTIADDR]... [--listen MULTIADDR]... [--announce MULTIADDR]... [--relay] [--name NAME] [--config FILE] [--dht-mode auto|server|client] [--log-level LEVEL] [--log-format auto|pretty|json] [--metrics HOST:PORT] [--webhook URL]',
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
    execWithDaemonFlags()
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
