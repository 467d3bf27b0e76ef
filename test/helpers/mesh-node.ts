import { rm } from 'node:fs/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { loadConfig } from '../../src/config/load.ts'
import { createLogger } from '../../src/log/logger.ts'
import { createMeshNode } from '../../src/node/create-node.ts'
import { tempDir } from './daemon.ts'
import type { MeshNode } from '../../src/node/mesh-node.ts'
import type { IsTrusted } from '../../src/nat/relay-policy.ts'
import type { PrivateKey } from '@libp2p/interface'

export interface InProcessNode {
  node: MeshNode
  /** stops the node and removes its data directory */
  stop(): Promise<void>
}

/**
 * A mesh node in the test's own process, composed as the daemon composes it
 * (createMeshNode) but with none of the daemon's protocol handlers: listening on
 * 127.0.0.1, a DHT client, with a fresh data directory and a fresh identity unless
 * `privateKey` is given; `env` sets configuration as a user's AGENTMESH_* variables do.
 */
export async function startInProcessNode (isTrusted: IsTrusted, privateKey?: PrivateKey, env: NodeJS.ProcessEnv = {}): Promise<InProcessNode> {
  const dataDir = await tempDir()
  const config = await loadConfig({ dataDir, env, flags: { listen: ['/ip4/127.0.0.1/tcp/0'], dht: { mode: 'client' } } })
  const node = await createMeshNode(config, privateKey ?? await generateKeyPair('Ed25519'), { isTrusted, log: createLogger({ level: 'silent', format: 'json' }) })
  await node.start()
  return {
    node,
    async stop () {
      await node.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}
