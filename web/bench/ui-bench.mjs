// Browser measurements for bench/ui.py, in Debian's headless Chromium (cold cache per run):
//   overview: navigation to the login page until its form is usable, then submit until the
//             field overview is usable (data-testid=overview-ready), median of --runs;
//   resumed:  the overview opened in a new context (cold cache) that holds only the session
//             cookie of a login made before: the reload of a logged-in user, median of --runs;
//   baseline: a cold navigation to a trivial same-origin resource (/health), same browser;
//   live:     the live view watching every series of the field for --live-seconds; long tasks
//             (> 50 ms, PerformanceObserver) and JS heap after forced GC, from 60 s on.
// Prints one JSON object on stdout.
import { chromium } from '@playwright/test'

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const base = args.base
const runs = Number(args.runs ?? 5)
const liveSeconds = Number(args['live-seconds'] ?? 300)
const warmup = Math.min(60, Math.floor(liveSeconds / 5))
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
const browser = await chromium.launch({ executablePath: process.env.ANH_CHROMIUM ?? '/usr/bin/chromium', args: flags })

async function fresh(storageState) {
  const context = await browser.newContext({ locale: 'es-CO', timezoneId: 'America/Bogota', viewport: { width: 1366, height: 900 }, storageState })
  return { context, page: await context.newPage() }
}

async function login(page) {
  const t0 = Date.now()
  await page.goto(`${base}/login`)
  await page.getByTestId('login-email').waitFor()
  const formMs = Date.now() - t0
  await page.getByTestId('login-email').fill(args.email)
  await page.getByTestId('login-password').fill(args.password)
  const t1 = Date.now()
  await page.getByTestId('login-submit').click()
  await page.getByTestId('overview-ready').waitFor({ state: 'attached', timeout: 30_000 })
  const overviewMs = Date.now() - t1
  // The login call is the server hashing the password (argon2); a resumed cookie session
  // replaces it with a refresh of a few milliseconds.
  const loginApiMs = await page.evaluate(() => {
    const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/api/v1/auth/login'))
    return e ? Math.round(e.responseEnd - e.startTime) : 0
  })
  return { formMs, overviewMs, loginApiMs }
}

const overview = []
const resumed = []
let waterfall = []
const baseline = []
for (let i = 0; i < runs; i += 1) {
  {
    const { context, page } = await fresh()
    const t0 = Date.now()
    await page.goto(`${base}/health`)
    baseline.push(Date.now() - t0)
    await context.close()
  }
  const { context, page } = await fresh()
  overview.push(await login(page))
  waterfall = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => [e.name.replace(location.origin, ''), Math.round(e.startTime), Math.round(e.responseEnd)]),
  )
  const cookies = (await context.storageState()).cookies.filter((c) => c.name === 'anh_refresh')
  await context.close()
  if (cookies.length === 1) {
    const again = await fresh({ cookies, origins: [] })
    const t0 = Date.now()
    await again.page.goto(`${base}/fields/1`)
    await again.page.getByTestId('overview-ready').waitFor({ state: 'attached', timeout: 30_000 })
    resumed.push(Date.now() - t0)
    await again.context.close()
  }
}

// Live view, every series of the field picked.
const { context, page } = await fresh()
await page.addInitScript(() => {
  window.__long = []
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__long.push([e.startTime, e.duration])
  }).observe({ type: 'longtask', buffered: true })
})
await login(page)
await page.getByTestId('nav-live').click()
await page.getByTestId('live-window').waitFor()
await page.locator('details.card summary').click()
const boxes = page.locator('.pickers input[type=checkbox]')
const count = await boxes.count()
for (let i = 0; i < count; i += 1) {
  const box = boxes.nth(i)
  if (!(await box.isChecked())) await box.check()
}
await page.locator('details.card summary').click()
const cdp = await context.newCDPSession(page)
await cdp.send('Performance.enable')
async function heapAfterGc() {
  await cdp.send('HeapProfiler.collectGarbage')
  const { metrics } = await cdp.send('Performance.getMetrics')
  return metrics.find((m) => m.name === 'JSHeapUsedSize').value
}
const received0 = await page.getByTestId('live-received').textContent()
await page.waitForTimeout(warmup * 1000) // measuring a steady state over wall-clock time
const heapStart = await heapAfterGc()
const longStart = await page.evaluate(() => performance.now())
await page.waitForTimeout((liveSeconds - warmup) * 1000)
const longEnd = await page.evaluate(() => performance.now())
const heapEnd = await heapAfterGc()
const long = await page.evaluate(([a, b]) => window.__long.filter(([t]) => t >= a && t <= b), [longStart, longEnd])
const received1 = await page.getByTestId('live-received').textContent()
const seconds = (longEnd - longStart) / 1000
await context.close()
await browser.close()

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(
  JSON.stringify({
    runs,
    baseline_ms: med(baseline),
    login_form_ms: med(overview.map((o) => o.formMs)),
    overview_after_login_ms: med(overview.map((o) => o.overviewMs)),
    login_api_ms: med(overview.map((o) => o.loginApiMs)),
    overview_with_login_ms: med(overview.map((o) => o.formMs + o.overviewMs)),
    overview_usable_ms: med(overview.map((o) => o.formMs + o.overviewMs - o.loginApiMs)),
    overview_runs_ms: overview.map((o) => o.formMs + o.overviewMs - o.loginApiMs),
    overview_resumed_ms: resumed.length ? med(resumed) : null,
    overview_resumed_runs_ms: resumed,
    live_series: count,
    live_seconds_measured: Math.round(seconds),
    live_received_before: received0,
    live_received_after: received1,
    long_tasks: long.length,
    long_tasks_per_s: long.length / seconds,
    blocking_ms_per_s: long.reduce((a, [, d]) => a + Math.max(0, d - 50), 0) / seconds,
    longest_task_ms: long.reduce((a, [, d]) => Math.max(a, d), 0),
    heap_start_mb: heapStart / 2 ** 20,
    heap_end_mb: heapEnd / 2 ** 20,
    heap_growth_mb: (heapEnd - heapStart) / 2 ** 20,
    waterfall,
  }),
)
