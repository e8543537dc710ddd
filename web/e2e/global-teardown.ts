// Stops the demo process group started by global-setup.ts (by its own pid only).
import { readFileSync, rmSync } from 'node:fs'
import { STATE } from './global-setup'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export default async function globalTeardown(): Promise<void> {
  let state: { pid: number; dataDir: string }
  try {
    state = JSON.parse(readFileSync(STATE, 'utf8')) as { pid: number; dataDir: string }
  } catch {
    return
  }
  if (!state.pid) return
  try {
    process.kill(-state.pid, 'SIGINT') // the demo stops cleanly on Ctrl-C
  } catch {
    /* already gone */
  }
  // Ctrl-C first (a clean stop), then TERM, then KILL; each given time to take effect.
  for (const [signal, ms] of [['SIGTERM', 15_000], ['SIGKILL', 5_000], [null, 5_000]] as const) {
    const deadline = Date.now() + ms
    while (Date.now() < deadline && alive(state.pid)) await new Promise((r) => setTimeout(r, 200))
    if (signal === null || !alive(state.pid)) break
    try {
      process.kill(-state.pid, signal)
    } catch {
      break
    }
  }
  rmSync(state.dataDir, { recursive: true, force: true })
}
