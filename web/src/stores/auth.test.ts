import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { api } from '@/api/client'
import { resetCapabilities } from '@/api/capabilities'
import { useAuthStore } from './auth'

type Handler = (url: string, init: RequestInit | undefined, req: Request | null) => Response

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

const ME = {
  kind: 'user',
  id: 1,
  name: 'ana@demo.local',
  operator_id: 1,
  role: 'viewer',
  permissions: ['reports.read', 'site.read'],
  field_ids: [1],
}

function install(handler: Handler): Array<{ url: string; auth: string | null; body: string | null }> {
  const calls: Array<{ url: string; auth: string | null; body: string | null }> = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : null
      const url = req ? new URL(req.url).pathname : String(input)
      const body = req ? await req.clone().text() : ((init?.body as string | undefined) ?? null)
      calls.push({ url, auth: req?.headers.get('Authorization') ?? null, body })
      return handler(url, init, req)
    }),
  )
  return calls
}

describe('auth store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    resetCapabilities()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.useRealTimers()
  })

  it('keeps tokens in memory, never in web storage', async () => {
    install((url) => {
      if (url === '/api/v1/auth/login')
        return json(200, { access_token: 'A1', refresh_token: 'R1', expires_in: 900 })
      if (url === '/api/v1/auth/me') return json(200, ME)
      return json(404, {})
    })
    const auth = useAuthStore()
    await auth.login('ana@demo.local', 'pw')
    expect(auth.loggedIn).toBe(true)
    expect(auth.currentToken()).toBe('A1')
    expect(localStorage.length).toBe(0)
    expect(sessionStorage.length).toBe(0)
    expect(auth.can('reports.read')).toBe(true)
    expect(auth.can('reports.sign')).toBe(false)
  })

  it('asks for the TOTP code when the API says it is required', async () => {
    install((url) =>
      url === '/api/v1/auth/login'
        ? json(401, { error: { code: 'totp_required', message: 'send totp' } })
        : json(404, {}),
    )
    const auth = useAuthStore()
    await expect(auth.login('ana@demo.local', 'pw')).rejects.toThrow('send totp')
    expect(auth.needsTotp).toBe(true)
    expect(auth.loggedIn).toBe(false)
  })

  it('renews once on a 401 with the in-memory refresh token and retries', async () => {
    let meCalls = 0
    const calls = install((url, _init, req) => {
      if (url === '/api/v1/auth/login')
        return json(200, { access_token: 'A1', refresh_token: 'R1', expires_in: 900 })
      if (url === '/api/v1/auth/refresh')
        return json(200, { access_token: 'A2', refresh_token: 'R2', expires_in: 900 })
      if (url === '/api/v1/auth/me') {
        meCalls += 1
        if (meCalls === 2 && req?.headers.get('Authorization') === 'Bearer A1')
          return json(401, { error: { code: 'token_expired', message: 'expired' } })
        return json(200, ME)
      }
      return json(404, {})
    })
    const auth = useAuthStore()
    await auth.login('ana@demo.local', 'pw')
    const { data } = await api.GET('/api/v1/auth/me')
    expect(data?.name).toBe('ana@demo.local')
    const refresh = calls.find((c) => c.url === '/api/v1/auth/refresh')
    expect(refresh?.body).toBe(JSON.stringify({ refresh_token: 'R1' }))
    expect(calls.at(-1)?.auth).toBe('Bearer A2')
  })

  it('ends the session when renewal fails', async () => {
    install((url) => {
      if (url === '/api/v1/auth/login')
        return json(200, { access_token: 'A1', refresh_token: 'R1', expires_in: 900 })
      if (url === '/api/v1/auth/me') return json(200, ME)
      return json(401, { error: { code: 'invalid_refresh_token', message: 'no' } })
    })
    const auth = useAuthStore()
    await auth.login('ana@demo.local', 'pw')
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL) => {
        const url = input instanceof Request ? new URL(input.url).pathname : String(input)
        return url === '/api/v1/auth/refresh'
          ? json(401, { error: { code: 'invalid_refresh_token', message: 'no' } })
          : json(401, { error: { code: 'token_expired', message: 'expired' } })
      }),
    )
    const result = await api.GET('/api/v1/auth/me')
    expect(result.response.status).toBe(401)
    expect(auth.loggedIn).toBe(false)
    expect(auth.sessionExpired).toBe(true)
  })

  it('uses the HttpOnly cookie session when the server offers it', async () => {
    const calls = install((url) => {
      if (url === '/api/v1/capabilities')
        return json(200, { operations: ['auth-refresh_session'], features: ['auth.cookie_session'] })
      if (url === '/api/v1/auth/session/refresh')
        return json(200, { access_token: 'C1', refresh_token: null, expires_in: 900 })
      if (url === '/api/v1/auth/me') return json(200, ME)
      return json(404, {})
    })
    const auth = useAuthStore()
    expect(await auth.restore()).toBe(true)
    expect(auth.currentToken()).toBe('C1')
    const mine = calls.find((c) => c.url === '/api/v1/auth/session/refresh')
    expect(mine?.body).toBeNull()
  })

  it('renews a cookie session under a lock shared by the tabs', async () => {
    const held: string[] = []
    vi.stubGlobal('navigator', {
      locks: {
        request: async (name: string, work: () => Promise<unknown>) => {
          held.push(name)
          return work()
        },
      },
    })
    install((url) => {
      if (url === '/api/v1/capabilities') return json(200, { operations: [], features: ['auth.cookie_session'] })
      if (url === '/api/v1/auth/session/refresh')
        return json(200, { access_token: 'C2', refresh_token: null, expires_in: 900 })
      if (url === '/api/v1/auth/me') return json(200, ME)
      return json(404, {})
    })
    const auth = useAuthStore()
    expect(await auth.restore()).toBe(true)
    expect(held).toEqual(['anh-session-refresh'])
    expect(auth.currentToken()).toBe('C2')
  })
})
