import { beforeEach, describe, expect, it } from 'vitest'
import { loadCapabilities, operationIds, resetCapabilities } from './capabilities'

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('capabilities', () => {
  beforeEach(() => resetCapabilities())

  it('reads operation ids from an OpenAPI document', () => {
    const ids = operationIds({
      paths: {
        '/a': { get: { operationId: 'reports-list_reports' }, post: { operationId: 'x-y' } },
        '/b': { get: {} },
      },
    })
    expect([...ids].sort()).toEqual(['reports-list_reports', 'x-y'])
  })

  it('prefers the capabilities endpoint', async () => {
    const seen: string[] = []
    const fetcher = (async (url: string) => {
      seen.push(url)
      return answer(200, { operations: ['reports-sign_report'], features: ['ws.auth_message'] })
    }) as unknown as typeof fetch
    const caps = await loadCapabilities(fetcher)
    expect(caps.operations.has('reports-sign_report')).toBe(true)
    expect(caps.features.has('ws.auth_message')).toBe(true)
    expect(seen).toEqual(['/api/v1/capabilities'])
  })

  it('falls back to the OpenAPI document when the endpoint is missing', async () => {
    const fetcher = (async (url: string) =>
      url.endsWith('capabilities')
        ? answer(404, { error: { code: 'not_found', message: 'no' } })
        : answer(200, { paths: { '/x': { post: { operationId: 'reports-generate_report' } } } })) as unknown as typeof fetch
    const caps = await loadCapabilities(fetcher)
    expect(caps.operations.has('reports-generate_report')).toBe(true)
    expect(caps.features.size).toBe(0)
  })
})
