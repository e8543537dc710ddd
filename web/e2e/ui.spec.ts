// The morning, as the people who answer for the report live it: log in, watch the field,
// sign a day, verify and download it, confirm a reset and approve an estimate before signing,
// amend a signed day and have a second person approve it, acknowledge an anomaly, create a
// viewer, enrol TOTP, and see that a viewer gets no action buttons (and that the API refuses
// them anyway).
import { expect, test, type Page } from '@playwright/test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { addDays, admin, contractDay, cspViolations, expectAccessible, go, login, shot, SHOTS, totp, watch } from './helpers'

test.describe.configure({ mode: 'serial' })

const VIEWER = `viewer.${Date.now()}@demo.local`
const XSS_EMAIL = `<script>window.__xss=3</script>${Date.now()}@demo.local`
const VIEWER_PASSWORD = 'una clave larga de prueba 2026'
const APPROVER = `approver.${Date.now()}@demo.local`
let problems: string[] = []

test.beforeEach(async ({ page }) => {
  problems = await watch(page)
})

test.afterEach(async ({ page }) => {
  expect(await cspViolations(page), 'CSP violations').toEqual([])
  expect(problems, 'page errors').toEqual([])
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
})

async function openOverview(page: Page): Promise<void> {
  await go(page, '/fields/1')
  await expect(page.getByTestId('overview-ready')).toBeAttached()
}

test('login page is accessible and refuses a wrong password', async ({ page }) => {
  await page.goto('/login')
  await expectAccessible(page, 'login')
  await shot(page, 'login')
  await page.getByTestId('login-email').fill(admin().email)
  await page.getByTestId('login-password').fill('not the password')
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('error')).toBeVisible()
  await page.goto('/no/such/page')
  await expect(page.locator('h1')).toHaveText('Página no encontrada')
  await expectAccessible(page, 'not-found')
})

test('a reload resumes the session through the HttpOnly cookie; after logout it does not', async ({ page, context }) => {
  const { email, password } = admin()
  await login(page, email, password)
  await openOverview(page)
  const session = (await context.cookies()).find((c) => c.name === 'anh_refresh')
  expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/api/v1/auth/session' })
  expect(await page.evaluate(() => document.cookie)).not.toContain('anh_refresh') // out of scripts' reach
  await page.reload()
  await expect(page.getByTestId('user-name')).toContainText(email)
  await expect(page.getByTestId('overview-ready')).toBeAttached()
  await page.getByTestId('logout').click()
  await expect(page.getByTestId('login-email')).toBeVisible()
  expect((await context.cookies()).find((c) => c.name === 'anh_refresh')).toBeUndefined()
  await page.reload()
  await expect(page.getByTestId('login-email')).toBeVisible()
  await page.goto('/fields/1')
  await expect(page).toHaveURL(/\/login\?next=/)
  await expect(page.getByTestId('login-email')).toBeVisible()
})

test('field overview with live values changing', async ({ page }) => {
  const { email, password } = admin()
  await login(page, email, password)
  await openOverview(page)
  const rate = page.getByTestId('live-rate-PMO-LACT-01')
  await expect(rate).not.toHaveText('—')
  const first = await rate.textContent()
  await expect(rate).not.toHaveText(first ?? '')
  await expect(page.getByTestId('overview-table')).toContainText('PMO-LACT-01')
  // es-CO numbers: thousands with '.', decimals with ','.
  await expect(rate).toHaveText(/^\d{1,3}(\.\d{3})*,\d{2}\s?bbl\/d$/)
  await expectAccessible(page, 'overview')
  await shot(page, 'overview')
})

test('live telemetry over the WebSocket', async ({ page }) => {
  const { email, password } = admin()
  await login(page, email, password)
  await openOverview(page)
  await page.getByTestId('nav-live').click()
  // The live view's own badge (an icon, then the state): wait for the view, then its link.
  await expect(page.locator('h1')).toHaveText('Telemetría en vivo')
  await expect(page.getByTestId('live-state')).toContainText('En vivo')
  const received = page.getByTestId('live-received')
  const before = await received.textContent()
  await expect(received).not.toHaveText(before ?? '')
  await expectAccessible(page, 'live')
  await shot(page, 'live')
  // Back into history: one hour of raw readings from the API, drawn in place of the live window.
  const history = page.waitForResponse((r) => r.url().includes('/raw?') && r.ok())
  await page.getByTestId('live-window').selectOption('1h')
  await history
  await expect(page.locator('canvas').first()).toBeVisible()
  await expectAccessible(page, 'live-history')
})

test('sign a contract day, verify it and download it', async ({ page }) => {
  test.setTimeout(180_000) // generating and signing a day is the server's slowest work under load
  const { email, password } = admin()
  await login(page, email, password)
  await openOverview(page)
  const day = addDays(contractDay(new Date()), -2)
  await go(page, `/fields/1/signoff/${day}`)
  await expect(page.getByTestId('signoff-ready')).toBeAttached()
  // On a fresh database the day is unsigned; a reused development server may have signed it.
  if ((await page.getByTestId('action-generate').count()) > 0) {
    await expectAccessible(page, 'signoff-unsigned')
    await page.getByTestId('action-generate').click()
  }
  await expect(page.getByTestId('report-status')).toContainText('Firmado', { timeout: 120_000 })
  await expect(page.getByTestId('pmo-card-PMO-LACT-01')).toBeVisible()
  await expect(page.getByTestId('nsv-PMO-LACT-01')).toHaveText(/^\d{1,3}(\.\d{3})*,\d{2}\s?bbl$/)
  await page.getByTestId('action-verify').click()
  await expect(page.getByTestId('verification-result')).toHaveText('Firma e integridad correctas')
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('action-download').click()])
  expect(download.suggestedFilename()).toMatch(/\.json$/)
  const body = JSON.parse(readFileSync((await download.path()) as string, 'utf8')) as { contract_day: { date: string } }
  expect(body.contract_day.date).toBe(day)
  // The signed day's well allocation (profile idp-1.2): factors, balances, one row per well.
  await expect(page.getByTestId('allocation')).toHaveAttribute('data-source', 'signed')
  await expect(page.getByTestId('allocation-wells')).toBeVisible()
  await expect(page.getByTestId('allocation-wells').locator('tbody tr').first()).toBeVisible()
  await expect(page.getByTestId('allocation-balances')).toBeVisible()
  const [forma] = await Promise.all([page.waitForEvent('download'), page.getByTestId('action-forma9sh').click()])
  expect(forma.suggestedFilename()).toMatch(/\.csv$/)
  await page.evaluate(() => window.scrollTo(0, 0))
  await shot(page, 'signoff')
  const card = page.getByTestId('pmo-card-PMO-LACT-01')
  await card.getByTestId('evidence-PMO-LACT-01').click()
  await expect(card.locator('canvas').first()).toBeVisible()
  await expectAccessible(page, 'signoff')
  await card.screenshot({ path: join(SHOTS, 'signoff-evidence.png'), animations: 'disabled' })
})

test('a day with a reset and an estimate: confirm, approve, sign; an amendment waits for a second approver', async ({ page }) => {
  test.setTimeout(300_000) // two generations and an amendment: the server's slowest work under load
  const { email, password } = admin()
  // The second person, an engineer (reports.sign), made through the API by the administrator.
  const token = (
    (await (await page.request.post('/api/v1/auth/login', { data: { email, password } })).json()) as { access_token: string }
  ).access_token
  const created = await page.request.post('/api/v1/users', {
    headers: { Authorization: `Bearer ${token}` },
    data: { email: APPROVER, password: VIEWER_PASSWORD, role: 'engineer', all_fields: true },
  })
  expect(created.status()).toBe(201)

  await login(page, email, password)
  // web/e2e/seed_reset_day.py: four days back, PMO-LACT-01's counter was reset after 3 h offline.
  const day = addDays(contractDay(new Date()), -4)
  await go(page, `/fields/1/signoff/${day}`)
  await expect(page.getByTestId('signoff-ready')).toBeAttached()
  const card = page.getByTestId('pmo-card-PMO-LACT-01')
  const reset = card.getByTestId('event-reset')
  await expect(reset).toHaveAttribute('data-status', 'needs_confirmation')
  await expect(card.getByTestId('reset-blocks-PMO-LACT-01')).toBeVisible()
  await expect(card.getByTestId('estimated-share-PMO-LACT-01')).toContainText('Estimado')
  await expect(card).toContainText('Volumen perdido en el reinicio (del caudal)') // the estimate's method
  await expect(card.getByTestId('approve-estimate-PMO-LACT-01')).toBeVisible()
  // The morning, before signing: the day's allocation as computed, said to be not signed yet,
  // with each well's virtual meter next to its allocated volumes and Σ virtual per PMO.
  const allocation = page.getByTestId('allocation')
  await expect(allocation).toHaveAttribute('data-source', 'computed')
  await expect(page.getByTestId('allocation-source')).toContainText('Calculada · aún sin firmar')
  await expect(page.getByTestId('allocation-unsigned')).toBeVisible()
  const wells = page.getByTestId('allocation-wells')
  await expect(wells.locator('tbody tr[data-testid^="well-row-"]')).toHaveCount(6)
  await expect(wells.locator('thead')).toContainText('Líquido virtual')
  await expect(wells.locator('tbody [data-testid^="virtual-"]').first()).toBeVisible()
  await expect(page.getByTestId('virtual-CDL-002')).toContainText(/^\s*\d{1,3}(\.\d{3})*,\d{2}\s?bbl\s+crudo \d{1,3}(\.\d{3})*,\d{2}\s?bbl/)
  await expect(page.getByTestId('virtual-checks')).toBeVisible()
  await expect(page.getByTestId('virtual-checks').locator('tbody tr').first()).toContainText(/\d{1,3}(\.\d{3})*,\d{2}\s?bbl/)
  await allocation.screenshot({ path: join(SHOTS, 'signoff-allocation.png'), animations: 'disabled' })
  await expectAccessible(page, 'signoff-reset')

  // The API will not sign it as it is: the unconfirmed reset and the unapproved estimate.
  await page.getByTestId('action-generate').click()
  await expect(page.getByTestId('task-status')).toContainText('Bloqueado', { timeout: 120_000 })
  await expect(page.getByTestId('signoff-blocked')).toBeVisible()
  await expect(card.getByTestId('finding-IDP026')).toBeVisible()
  await expect(card.getByTestId('finding-IDP028')).toContainText('5')
  await expect(page.getByTestId('report-status')).not.toContainText('Firmado')
  await card.screenshot({ path: join(SHOTS, 'signoff-reset.png'), animations: 'disabled' })

  // Confirm the reset (the day is recomputed), then approve the estimate as it now stands.
  await card.locator('[data-testid^="confirm-reset-"]').click()
  await page.getByTestId('form-reason').fill('Cambio de la tarjeta del computador de flujo; contador reiniciado')
  const confirmed = page.waitForResponse((r) => r.url().includes('/confirm-reset') && r.request().method() === 'POST')
  await page.getByTestId('form-submit').click()
  expect((await confirmed).status()).toBe(200)
  await expect(reset).toHaveAttribute('data-status', 'confirmed')
  await expect(reset).toContainText(email)
  await expect(card.getByTestId('reset-blocks-PMO-LACT-01')).toHaveCount(0)
  await card.getByTestId('approve-estimate-PMO-LACT-01').click()
  await page.getByTestId('form-reason').fill('Flujo estable en la tasa durante la falla del contador')
  const approved = page.waitForResponse((r) => r.url().includes('/approve-estimate') && r.request().method() === 'POST')
  await page.getByTestId('form-submit').click()
  expect((await approved).status()).toBe(200)
  await expect(card.getByTestId('estimate-approved-PMO-LACT-01')).toContainText(email)
  await expect(card.getByTestId('approve-estimate-PMO-LACT-01')).toHaveCount(0)

  // Now it signs; verify and download it.
  await page.getByTestId('action-generate').click()
  await expect(page.getByTestId('report-status')).toContainText('Firmado', { timeout: 120_000 })
  await expect(page.getByTestId('signoff-blocked')).toHaveCount(0)
  await expect(card.getByTestId('finding-IDP026')).toHaveCount(0)
  // Signed: the signed document's allocation wins, and what is computed agrees with it.
  await expect(allocation).toHaveAttribute('data-source', 'signed')
  await expect(page.getByTestId('allocation-source')).toContainText('Firmada · v1')
  await expect(page.getByTestId('allocation-changed')).toHaveCount(0)
  await page.getByTestId('action-verify').click()
  await expect(page.getByTestId('verification-result')).toHaveText('Firma e integridad correctas')
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('action-download').click()])
  const body = JSON.parse(readFileSync((await download.path()) as string, 'utf8')) as { contract_day: { date: string } }
  expect(body.contract_day.date).toBe(day)

  // A laboratory BSW changes the signed day's net volume: amend it, see the per-figure diff.
  const nsv = page.getByTestId('nsv-PMO-LACT-01')
  const signedNsv = (await nsv.textContent()) ?? ''
  await card.getByTestId('lab-result-PMO-LACT-01').click()
  await page.getByTestId('lab-sampled-at').fill(`${day}T12:00`)
  await page.getByTestId('lab-bsw').fill('7,5')
  await page.getByTestId('lab-reference').fill(`LAB-${day}-01`)
  await page.getByTestId('form-reason').fill('Resultado de laboratorio del día')
  const lab = page.waitForResponse((r) => r.url().endsWith('/lab-results') && r.request().method() === 'POST')
  await page.getByTestId('form-submit').click()
  expect((await lab).status()).toBe(201)
  await expect(nsv).not.toHaveText(signedNsv)
  await expect(page.getByTestId('report-panel')).toContainText('Requiere enmienda')
  // The recompute moved what the LACT dispatched: the oil balance now differs from the signed one.
  await expect(page.getByTestId('allocation-source')).toContainText('Firmada · v1')
  await expect(page.getByTestId('allocation-changed')).toContainText('difieren de la versión firmada v1')
  await expect(page.getByTestId('allocation-changes')).toContainText('balance: residuo')
  await page.getByTestId('amend-reason-code').selectOption('lab_result')
  await page.getByTestId('amend-reason').fill('BSW del laboratorio en lugar del analizador en línea')
  await page.getByTestId('action-amend').click()
  const pending = page.getByTestId('pending-amendment')
  await expect(pending).toBeVisible({ timeout: 120_000 })
  await expect(pending).toContainText(email)
  await expect(pending.getByTestId('amendment-change-PMO-LACT-01').first()).toBeVisible()
  await expect(page.getByTestId('action-approve')).toHaveCount(0) // not by the one who asked
  await expectAccessible(page, 'signoff-amendment')
  await page.getByTestId('report-panel').screenshot({ path: join(SHOTS, 'signoff-amendment.png'), animations: 'disabled' })

  // The second person approves it: version 2 is signed.
  await page.getByTestId('logout').click()
  await expect(page.getByTestId('login-email')).toBeVisible()
  await login(page, APPROVER, VIEWER_PASSWORD)
  await go(page, `/fields/1/signoff/${day}`)
  await expect(page.getByTestId('signoff-ready')).toBeAttached()
  await expect(page.getByTestId('pending-amendment')).toBeVisible()
  await page.getByTestId('action-approve').click()
  await expect(page.getByTestId('pending-amendment')).toHaveCount(0, { timeout: 120_000 })
  await expect(page.getByTestId('report-panel')).toContainText('v2')
  await expect(page.getByTestId('report-status')).toContainText('Firmado')
  await expect(page.getByTestId('report-diff')).toContainText('v1')
  await expect(page.getByTestId('allocation-source')).toContainText('Firmada · v2')
  await expect(page.getByTestId('allocation-changed')).toHaveCount(0)
  await page.getByTestId('action-verify').click()
  await expect(page.getByTestId('verification-result')).toHaveText('Firma e integridad correctas')
})

test('acknowledge an anomaly; its markup shows as text', async ({ page }) => {
  const { email, password } = admin()
  await login(page, email, password)
  await go(page, '/anomalies?status=open')
  const card = page.locator('article', { hasText: 'E2E_SEED' }).first()
  await expect(card).toBeVisible()
  await expect(card).toContainText('<script>window.__xss = 1</script>')
  await expect(card.locator('meter')).toHaveCount(3)
  await expectAccessible(page, 'anomalies')
  await shot(page, 'anomalies')
  await card.getByRole('button', { name: 'Reconocer' }).click()
  await expect(card.getByTestId('status')).toHaveText(/Reconocida/)
})

test('an administrator creates users; names with markup show as text', async ({ page }) => {
  const { email, password } = admin()
  await login(page, email, password)
  await page.getByTestId('nav-admin').click()
  await page.getByTestId('new-user-email').fill(VIEWER)
  await page.getByTestId('new-user-password').fill(VIEWER_PASSWORD)
  await page.getByTestId('new-user-role').selectOption('viewer')
  await page.getByTestId('new-user-submit').click()
  await expect(page.getByTestId('users-table')).toContainText(VIEWER)
  // The form's email field would refuse markup; the API takes it, so another client could.
  const token = (
    (await (await page.request.post('/api/v1/auth/login', { data: { email, password } })).json()) as { access_token: string }
  ).access_token
  const created = await page.request.post('/api/v1/users', {
    headers: { Authorization: `Bearer ${token}` },
    data: { email: XSS_EMAIL, password: VIEWER_PASSWORD, role: 'viewer', all_fields: true },
  })
  expect(created.status()).toBe(201)
  await page.getByTestId('tab-keys').click()
  await expect(page.getByTestId('keys-table')).toBeVisible()
  await expectAccessible(page, 'admin-keys')
  await page.getByTestId('tab-users').click()
  await expect(page.getByTestId('users-table')).toContainText(XSS_EMAIL.toLowerCase())
  await expectAccessible(page, 'admin')
  await shot(page, 'admin')
  await page.getByTestId('tab-keys').click()
  await page.getByTestId('new-key-name').fill(`scada-historian-${Date.now()}`)
  await page.getByTestId('new-key-submit').click()
  await expect(page.getByTestId('key-value')).toHaveText(/\S{20,}/)
  await expectAccessible(page, 'admin-key-once')
  await page.getByTestId('key-dismiss').click()
  await expect(page.getByTestId('key-once')).toHaveCount(0)
})

test('a viewer sees no action buttons and the API refuses the actions anyway', async ({ page }) => {
  await login(page, VIEWER, VIEWER_PASSWORD)
  await openOverview(page)
  await expect(page.getByTestId('nav-admin')).toHaveCount(0)
  const day = addDays(contractDay(new Date()), -1)
  await go(page, `/fields/1/signoff/${day}`)
  await expect(page.getByTestId('signoff-ready')).toBeAttached()
  await expect(page.getByTestId('report-status')).toContainText('Firmado')
  for (const id of ['action-generate', 'action-sign', 'action-submit', 'action-amend', 'action-approve']) {
    await expect(page.getByTestId(id)).toHaveCount(0)
  }
  await expect(page.getByTestId('action-verify')).toBeVisible() // reading stays allowed
  await go(page, '/anomalies')
  await expect(page.locator('article').first()).toBeVisible()
  await expect(page.getByRole('button', { name: 'Reconocer' })).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Cerrar', exact: true })).toHaveCount(0)
  const token = (
    (await (await page.request.post('/api/v1/auth/login', { data: { email: VIEWER, password: VIEWER_PASSWORD } })).json()) as {
      access_token: string
    }
  ).access_token
  const headers = { Authorization: `Bearer ${token}` }
  const anomalies = (await (await page.request.get('/api/v1/anomalies', { headers })).json()) as Array<{ id: number }>
  const ack = await page.request.post(`/api/v1/anomalies/${anomalies[0]?.id ?? 1}/acknowledge`, { headers })
  expect(ack.status()).toBe(403)
  const generate = await page.request.post('/api/v1/reports/generate', { headers, data: { field_id: 1, day } })
  expect(generate.status()).toBe(403)
})

test('TOTP enrolment with a QR code, then login with the second factor', async ({ page }) => {
  await login(page, VIEWER, VIEWER_PASSWORD)
  await go(page, '/account')
  await page.getByTestId('totp-start').click()
  await expect(page.getByTestId('totp-qr')).toBeVisible()
  const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? ''
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/)
  await expectAccessible(page, 'account')
  await shot(page, 'account-totp')
  await page.getByTestId('totp-code').fill(totp(secret))
  await page.getByTestId('totp-enable').click()
  await expect(page.getByTestId('notice')).toBeVisible()
  await page.getByTestId('logout').click()
  await expect(page.getByTestId('login-email')).toBeVisible()
  // The enrolment used this step's code; the next step's is within the API's ±1 window.
  await login(page, VIEWER, VIEWER_PASSWORD, totp(secret, 1))
})

test('reports, report detail, production, SPC, logs, PMO and well views', async ({ page }) => {
  const { email, password } = admin()
  await login(page, email, password)
  await page.getByTestId('nav-reports').click()
  await expect(page.getByTestId('reports-table')).toContainText('IDP-')
  await expectAccessible(page, 'reports')
  await shot(page, 'reports')
  await page.getByTestId('reports-table').getByRole('link').first().click()
  await expect(page.getByTestId('version-1')).toBeVisible()
  await expectAccessible(page, 'report')
  await go(page, '/fields/1/production')
  await expect(page.locator('h1')).toHaveText('Producción y pronóstico')
  await expect(page.locator('canvas').first()).toBeVisible()
  await expectAccessible(page, 'production')
  await shot(page, 'production')
  await go(page, '/series/1/spc')
  await expect(page.locator('h1')).toContainText('Gráfico de control')
  await expect(page.locator('canvas').first()).toBeVisible()
  await expectAccessible(page, 'spc')
  await shot(page, 'spc')
  await go(page, '/logs')
  await expect(page.getByTestId('audit-table')).toContainText('report')
  await expectAccessible(page, 'logs')
  await go(page, '/fields/1/pmos/1')
  await expect(page.locator('h1')).toContainText('PMO-LACT-01')
  await expectAccessible(page, 'pmo')
  await go(page, '/fields/1/wells/1')
  await expect(page.locator('h1')).toContainText('CDL-001')
  await expectAccessible(page, 'well')
})
