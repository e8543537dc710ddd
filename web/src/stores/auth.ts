// Who is logged in. The access token stays in memory (a module variable, never storage); the
// refresh token is an HttpOnly cookie when the server offers cookie sessions, otherwise it is
// kept in memory only, so a reload means logging in again (never localStorage).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, ApiError, setTokenSource, toApiError, unwrap, type Schemas } from '@/api/client'
import { FEATURE, loadFeatures } from '@/api/capabilities'
import { useCatalogStore } from './catalog'

type Me = Schemas['MeResponse']
type Permission = Schemas['Permission']

/** Sent with cookie-session calls: a custom header a cross-site form cannot add (CSRF). */
export const CSRF_HEADER = { 'X-ANH-CSRF': '1' }

/**
 * Tabs of the app share one refresh cookie, and the server treats a second use of a spent
 * token as theft (it ends the session). Renewals therefore take turns across tabs (Web Locks):
 * the second tab sends the cookie the first one's renewal has just set.
 */
export async function oneTabAtATime<T>(work: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  if (!locks) return work()
  return await locks.request('anh-session-refresh', work)
}

interface TokenAnswer {
  access_token: string
  refresh_token?: string | null
  expires_in: number
}

export const useAuthStore = defineStore('auth', () => {
  const me = ref<Me | null>(null)
  const needsTotp = ref(false)
  const sessionExpired = ref(false)
  let accessToken: string | null = null
  let refreshToken: string | null = null
  let cookieSession = false
  let renewing: Promise<string | null> | null = null
  let timer: ReturnType<typeof setTimeout> | null = null

  const loggedIn = computed(() => me.value !== null)
  const permissions = computed(() => new Set<Permission>(me.value?.permissions ?? []))

  function can(permission: Permission): boolean {
    return permissions.value.has(permission)
  }

  function accept(answer: TokenAnswer): void {
    accessToken = answer.access_token
    refreshToken = cookieSession ? null : (answer.refresh_token ?? null)
    if (timer !== null) clearTimeout(timer)
    // Renew a little before expiry so a long sign-off never meets a 401 mid-action.
    const ms = Math.max(10, answer.expires_in * 0.8) * 1000
    timer = setTimeout(() => void renew(), ms)
  }

  async function loadMe(): Promise<void> {
    me.value = unwrap(await api.GET('/api/v1/auth/me'))
  }

  async function login(email: string, password: string, totp?: string): Promise<void> {
    cookieSession = (await loadFeatures()).has(FEATURE.cookieSession)
    const body: Record<string, unknown> = { email, password }
    if (totp) body.totp = totp
    if (cookieSession) body.session = 'cookie'
    const response = await fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...CSRF_HEADER },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    })
    const parsed: unknown = await response.json().catch(() => undefined)
    if (!response.ok) {
      const error = toApiError(response, parsed)
      if (error.code === 'totp_required') needsTotp.value = true
      throw error
    }
    accept(parsed as TokenAnswer)
    sessionExpired.value = false
    // The site catalogue is the next thing every view needs: fetch it alongside the profile
    // (a failure here is retried by the router guard).
    await Promise.all([loadMe(), useCatalogStore().load().catch(() => undefined)])
  }

  /** A new access token from the refresh cookie or the in-memory refresh token. */
  function renew(): Promise<string | null> {
    if (renewing === null) {
      renewing = doRenew().finally(() => {
        renewing = null
      })
    }
    return renewing
  }

  async function doRenew(): Promise<string | null> {
    let response: Response
    if (cookieSession) {
      response = await oneTabAtATime(() =>
        fetch('/api/v1/auth/session/refresh', {
          method: 'POST',
          headers: CSRF_HEADER,
          credentials: 'same-origin',
        }),
      )
    } else if (refreshToken !== null) {
      response = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: refreshToken }),
      })
    } else {
      return null
    }
    if (!response.ok) return null
    accept((await response.json()) as TokenAnswer)
    return accessToken
  }

  /** At page load: resume a cookie session if the server offers them and one is open. */
  async function restore(): Promise<boolean> {
    cookieSession = (await loadFeatures()).has(FEATURE.cookieSession)
    if (!cookieSession) return false
    const token = await renew()
    if (token === null) return false
    await loadMe()
    return true
  }

  function forget(): void {
    accessToken = null
    refreshToken = null
    me.value = null
    needsTotp.value = false
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  async function logout(): Promise<void> {
    try {
      if (cookieSession) {
        await fetch('/api/v1/auth/session/logout', {
          method: 'POST',
          headers: CSRF_HEADER,
          credentials: 'same-origin',
        })
      } else if (refreshToken !== null) {
        await api.POST('/api/v1/auth/logout', { body: { refresh_token: refreshToken } })
      }
    } finally {
      forget()
    }
  }

  function expired(): void {
    forget()
    sessionExpired.value = true
  }

  /** The token for the WebSocket's first message (or its URL, on an older server). */
  function currentToken(): string | null {
    return accessToken
  }

  setTokenSource({ access: () => accessToken, renew, expired })

  return {
    me,
    needsTotp,
    sessionExpired,
    loggedIn,
    can,
    login,
    logout,
    restore,
    renew,
    currentToken,
    expired,
  }
})

export { ApiError }
