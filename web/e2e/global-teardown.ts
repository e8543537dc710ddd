// Stops the demo process group started by global-setup.ts (by its own pid only).
import { readFileSync, rmSync } from 'node:fs'
import { STATE } from './global-setup'

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
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    try {
      process.kill(state.pid, 0)
    } catch {
      break
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  try {
    process.kill(-state.pid, 'SIGKILL')
  } catch {
    /* stopped */
  }
  rmSync(state.dataDir, { recursive: true, force: true })
}
