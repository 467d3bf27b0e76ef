import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** The files a node keeps in its data directory. */
export interface DataDir {
  root: string
  /** the Ed25519 identity key, protobuf-encoded as libp2p stores keys, mode 0600 */
  identityKey: string
  /** the control API's unix socket, mode 0600 */
  controlSocket: string
  /** the agent proxy's unix socket, mode 0600: tunnels to A2A agents and MCP servers go through it */
  agentsSocket: string
  /** the allowlist of peers */
  trust: string
  /** the exposed services */
  services: string
  /** the local port forwards */
  forwards: string
  /** the networks this node is a member of: certificates, revocation lists, certificates issued */
  networks: string
  /** the keys of the networks this node administers, one `<network>.key` each, mode 0600 */
  networkKeys: string
  /** the members mapped to virtual addresses */
  maps: string
  /** holds the running daemon's pid; created exclusively so two daemons never share a directory */
  pidFile: string
}

/** `--data-dir`, else `$AGENTMESH_HOME`, else `~/.agentmesh`. */
export function resolveDataDir (flag: string | undefined, env: NodeJS.ProcessEnv): DataDir {
  const root = resolve(flag ?? env.AGENTMESH_HOME ?? join(homedir(), '.agentmesh'))
  return {
    root,
    identityKey: join(root, 'identity.key'),
    controlSocket: join(root, 'control.sock'),
    agentsSocket: join(root, 'agents.sock'),
    pidFile: join(root, 'daemon.pid'),
    trust: join(root, 'trust.json'),
    services: join(root, 'services.json'),
    forwards: join(root, 'forwards.json'),
    networks: join(root, 'networks.json'),
    networkKeys: join(root, 'network-keys'),
    maps: join(root, 'maps.json')
  }
}
