// Shared steps of the browser tests: log in, run axe, watch for CSP violations, screenshots,
// TOTP codes, contract days.
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import AxeBuilder from '@axe-core/playwright'
import { expect, type Page } from '@playwright/test'
import { STATE } from './global-setup'

const here = dirname(fileURLToPath(import.meta.url))
// docs/ui/ (the README's screens) by default; `make test` sends them elsewhere so a test run
// leaves the checkout clean.
export const SHOTS = process.env.ANH_E2E_SHOTS ? resolve(process.env.ANH_E2E_SHOTS) : resolve(here, '..', '..', 'docs', 'ui')

export function admin(): { email: string; password: string } {
  const s = JSON.parse(readFileSync(STATE, 'utf8')) as { email: string; password: string }
  return { email: s.email, password: s.password }
}

/** Record CSP violations and uncaught errors of a page (checked at the end of each test). */
export async function watch(page: Page): Promise<string[]> {
  const problems: string[] = []
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const w = window as unknown as { __csp?: string[] }
      ;(w.__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`)
    })
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`)
  })
  return problems
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])
}

/**
 * Move within the app without reloading it (a reload forgets the in-memory token, by design):
 * push the URL and let vue-router follow the popstate. The URL changes at once, the view a
 * moment later: wait on something of the target view after calling this, and do not chain two
 * calls without such a wait.
 */
export async function go(page: Page, path: string): Promise<void> {
  await page.evaluate((p) => {
    // The state vue-router keeps in history entries, so its popstate handler accepts ours.
    const here = window.history.state as { current: string; position: number }
    const state = { back: here.current, current: p, forward: null, position: here.position + 1, replaced: false, scroll: null }
    window.history.pushState(state, '', p)
    window.dispatchEvent(new PopStateEvent('popstate', { state }))
  }, path)
  await page.waitForURL((url) => url.pathname + url.search === path)
}

export async function login(page: Page, email: string, password: string, totp?: string): Promise<void> {
  await page.goto('/login')
  await page.getByTestId('login-email').fill(email)
  await page.getByTestId('login-password').fill(password)
  await page.getByTestId('login-submit').click()
  if (totp !== undefined) {
    await expect(page.getByTestId('login-totp')).toBeVisible()
    await expectAccessible(page, 'login-totp')
    await page.getByTestId('login-totp').fill(totp)
    await page.getByTestId('login-submit').click()
  }
  await expect(page.getByTestId('user-name')).toContainText(email)
  // The login page then replaces itself with the field overview (after loading its chunk): wait
  // for it, or a go() right after would race that navigation and lose.
  await expect(page.getByTestId('overview-ready')).toBeAttached()
}

/** axe-core (WCAG 2.2 A and AA rules) on the current page: no serious or critical violation. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze()
  const violations = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`)
  expect.soft(violations, `axe on ${name}`).toEqual([]) // soft: one run lists every view's findings
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false, animations: 'disabled' })
}

/** The contract day an instant falls in: Bogota (UTC-5, no DST), day starting at 06:00. */
export function contractDay(at: Date, startHour = 6): string {
  return new Date(at.getTime() - (5 + startHour) * 3_600_000).toISOString().slice(0, 10)
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for a base32 secret, `offset` steps from now. */
export function totp(secret: string, offset = 0): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0')
  const key = Buffer.alloc(Math.floor(bits.length / 8))
  for (let i = 0; i < key.length; i += 1) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2)
  const step = Math.floor(Date.now() / 1000 / 30) + offset
  const msg = Buffer.alloc(8)
  msg.writeBigUInt64BE(BigInt(step))
  const h = createHmac('sha1', key).update(msg).digest()
  const o = (h[h.length - 1] as number) & 0xf
  const code = ((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).toString().padStart(6, '0')
  return code
}
