// End-to-end tests in Debian's Chromium (never a downloaded browser) against a real API process
// that e2e/global-setup.ts starts on a fresh database (`anh-reporter demo` with the UI mounted).
import { defineConfig } from '@playwright/test'

const port = Number(process.env.ANH_E2E_PORT ?? 18765)

export default defineConfig({
  testDir: './e2e',
  globalSetup: './e2e/global-setup.ts',
  globalTeardown: './e2e/global-teardown.ts',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  outputDir: './test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    locale: 'es-CO',
    timezoneId: 'America/Bogota',
    viewport: { width: 1366, height: 900 },
    acceptDownloads: true,
    trace: 'off',
    screenshot: 'off',
    launchOptions: {
      executablePath: process.env.ANH_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
})
