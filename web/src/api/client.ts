// The typed API client: openapi-fetch over the schema generated from the app's own OpenAPI
// document (`npm run gen:api`). The access token lives in this module's memory only; a 401
// triggers one refresh (cookie session or in-memory refresh token) and one retry.
import createClient from 'openapi-fetch'
import type { components, paths } from './schema'

export type Schemas = components['schemas']

export interface TokenSource {
  /** The current access token, or null when logged out. */
  access(): string | null
  /** Get a new access token; null when the session cannot be renewed (log in again). */
  renew(): Promise<string | null>
  /** Called when the session is gone for good. */
  expired(): void
}

let source: TokenSource | null = null

/** Install where tokens come from (the auth store does, at start). */
export function setTokenSource(s: TokenSource | null): void {
  source = s
}

/** `fetch` with the bearer token; on 401 renews once and retries. */
export async function authFetch(input: Request): Promise<Response> {
  const retry = input.clone()
  const token = source?.access() ?? null
  if (token !== null) input.headers.set('Authorization', `Bearer ${token}`)
  const first = await fetch(input)
  if (first.status !== 401 || source === null || token === null) return first
  const renewed = await source.renew()
  if (renewed === null) {
    source.expired()
    return first
  }
  retry.headers.set('Authorization', `Bearer ${renewed}`)
  return fetch(retry)
}

export const api = createClient<paths>({ baseUrl: '', fetch: authFetch })

/** The API's error body (`{"error": {"code", "message", "details"}}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** The data of an openapi-fetch answer, or throw an {@link ApiError} with the API's message. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.data !== undefined) return result.data
  throw toApiError(result.response, result.error)
}

export function toApiError(response: Response, body: unknown): ApiError {
  const info = (body as { error?: { code?: string; message?: string } } | undefined)?.error
  const detail = (body as { detail?: unknown } | undefined)?.detail
  return new ApiError(
    response.status,
    info?.code ?? `http_${response.status}`,
    info?.message ?? (typeof detail === 'string' ? detail : response.statusText || 'request failed'),
  )
}

/**
 * A call to an endpoint that the committed schema does not describe yet (see BACKEND_NEEDS.md).
 * Only used behind feature detection: the UI shows these actions when the server offers them.
 */
export async function callExtra<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const request = new Request(path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const response = await authFetch(request)
  const text = await response.text()
  const parsed: unknown = text ? JSON.parse(text) : undefined
  if (!response.ok) throw toApiError(response, parsed)
  return parsed as T
}

/** Download a file the API serves (signed report, signature) with the bearer token. */
export async function downloadFile(path: string, fallbackName: string): Promise<string> {
  const response = await authFetch(new Request(path))
  if (!response.ok) {
    const text = await response.text()
    throw toApiError(response, text ? JSON.parse(text) : undefined)
  }
  const disposition = response.headers.get('Content-Disposition') ?? ''
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName
  const blob = await response.blob()
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
  return name
}
