// Starts `anh-reporter demo` (UI mounted, fresh database, a seeded anomaly) and waits until it
// answers and has printed the admin password; the tests read it from the environment.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const repo = resolve(here, '..', '..')
export const STATE = join(here, '..', '.e2e', 'state.json')

/** The server process is gone: stop waiting at once (other probe errors mean "not yet"). */
class ServerExited extends Error {}

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch((error: unknown) => {
      if (error instanceof ServerExited) throw error
      return null
    })
    if (value !== null) return value
    if (Date.now() > deadline) throw new Error(`e2e: timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250)) // polling a child process: no event to wait on
  }
}

export default async function globalSetup(): Promise<void> {
  const port = Number(process.env.ANH_E2E_PORT ?? 18765)
  if (process.env.ANH_E2E_REUSE_PASSWORD) {
    // Development only: a demo_server.py already running on ANH_E2E_PORT.
    mkdirSync(dirname(STATE), { recursive: true })
    writeFileSync(STATE, JSON.stringify({ pid: 0, port, dataDir: '', email: 'admin@demo.local', password: process.env.ANH_E2E_REUSE_PASSWORD }))
    return
  }
  const python = process.env.ANH_E2E_PYTHON ?? join(repo, '.venv', 'bin', 'python')
  const dataDir = mkdtempSync(join(tmpdir(), 'anh-e2e-'))
  mkdirSync(dirname(STATE), { recursive: true })
  const logPath = join(dirname(STATE), 'server.log')
  const log = openSync(logPath, 'w')
  const child = spawn(
    python,
    [join(here, 'demo_server.py'), 'demo', '--days', process.env.ANH_E2E_DAYS ?? '7', '--live', '7200', '--api-port', String(port), '--seed-anomaly'],
    {
      cwd: repo,
      env: { ...process.env, ANH_DATA_DIR: dataDir, ANH_E2E_DATABASE: process.env.ANH_E2E_DATABASE ?? 'anh_e2e', NO_COLOR: '1', COLUMNS: '200' },
      stdio: ['ignore', log, log],
      detached: true,
    },
  )
  child.unref()
  const password = await waitFor(
    'the admin password in the demo output',
    async () => {
      if (child.exitCode !== null) throw new ServerExited(`demo exited: see ${logPath}`)
      const m = /API admin[^:]*:\s*(\S+)\s*\/\s*(\S+)/.exec(readFileSync(logPath, 'utf8'))
      return m ? { email: m[1] as string, password: m[2] as string } : null
    },
    240_000,
  )
  await waitFor(
    'the API and the UI',
    async () => {
      if (child.exitCode !== null) throw new ServerExited(`demo exited (${child.exitCode}): see ${logPath}`)
      const [ui, api] = await Promise.all([
        fetch(`http://127.0.0.1:${port}/`),
        fetch(`http://127.0.0.1:${port}/api/v1/auth/me`),
      ])
      return ui.ok && api.status === 401 ? true : null
    },
    240_000,
  )
  await waitFor(
    'the seeded anomaly',
    async () => (readFileSync(logPath, 'utf8').includes('e2e: seeded anomaly') || !process.env.ANH_TEST_DATABASE_URL && !process.env.ANH_E2E_DATABASE_URL ? true : null),
    60_000,
  )
  writeFileSync(STATE, JSON.stringify({ pid: child.pid, port, dataDir, ...password }))
  process.env.ANH_E2E_ADMIN = password.email
  process.env.ANH_E2E_PASSWORD = password.password
}
