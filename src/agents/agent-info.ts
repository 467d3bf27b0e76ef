import type { AgentService } from '../../protocols/records/index.ts'

/** What `expose --a2a` or `--mcp` read from the service: kept with the service, published in capability records. */
export type AgentInfo = Omit<AgentService, 'service'>

export const AGENT_KINDS = ['a2a', 'mcp'] as const
