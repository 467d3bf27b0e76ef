/**
 * The system tools some tests run (curl, ssh, sshd, nginx, tshark, promtool,
 * chromium, ...): where each is, and the one-line reason a test skips when one
 * is missing, so that `npm test` passes on a machine without them. `.ci/run`
 * installs them all.
 */

import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

// servers such as sshd and nginx live here, outside a non-root user's PATH
const SBIN = ['/usr/sbin', '/usr/local/sbin']

/** The absolute path of the executable `command` on PATH (then in the sbin directories), or undefined. */
export function toolPath (command: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(dir => dir !== ''), ...SBIN]
  return dirs.map(dir => join(dir, command)).find(path => {
    try {
      accessSync(path, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** Why a test needing `command` must skip here (`... is not installed (apt-get install <aptPackage>)`), or false when it can run. */
export function missingTool (command: string, aptPackage: string): string | false {
  return toolPath(command) === undefined ? `${command} is not installed (apt-get install ${aptPackage})` : false
}
