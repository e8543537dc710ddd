// `npm run check:api`: fails when web/openapi.json or src/api/schema.d.ts differ from what the
// API serves today (python tools/export_openapi.py --check, then regenerate and compare).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const repo = resolve(web, '..')
const python = process.env.PYTHON ?? join(repo, '.venv', 'bin', 'python')
execFileSync(python, [join(repo, 'tools', 'export_openapi.py'), '--check'], { stdio: 'inherit' })
const tmp = mkdtempSync(join(tmpdir(), 'anh-api-'))
try {
  execFileSync(join(web, 'node_modules', '.bin', 'openapi-typescript'), ['openapi.json', '-o', join(tmp, 'schema.d.ts')], {
    cwd: web,
    stdio: 'ignore',
  })
  if (readFileSync(join(tmp, 'schema.d.ts'), 'utf8') !== readFileSync(join(web, 'src', 'api', 'schema.d.ts'), 'utf8')) {
    console.error('src/api/schema.d.ts is stale: run `npm run gen:api` and commit it')
    process.exit(1)
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
console.log('API document and typed client are current')
