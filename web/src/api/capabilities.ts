// What the server offers, for actions whose endpoints land after this UI (BACKEND_NEEDS.md):
// `GET /api/v1/capabilities` when it exists, else the operation ids of `/api/openapi.json`.
// An action is shown only when its operation is there (and the user's permissions allow it).

export interface Capabilities {
  operations: ReadonlySet<string>
  features: ReadonlySet<string>
}

interface CapabilitiesBody {
  operations?: string[]
  features?: string[]
}

interface OpenApiDoc {
  paths?: Record<string, Record<string, { operationId?: string }>>
}

/** Operation ids in an OpenAPI document. */
export function operationIds(doc: OpenApiDoc): Set<string> {
  const ids = new Set<string>()
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item)) {
      if (op && typeof op === 'object' && typeof op.operationId === 'string') ids.add(op.operationId)
    }
  }
  return ids
}

let cached: Promise<Capabilities> | null = null
let features: Promise<ReadonlySet<string>> | null = null

/**
 * Only the features (cookie sessions, WebSocket auth message): one small request, and none of
 * the OpenAPI document (kept off the login and first-paint path).
 */
export function loadFeatures(fetcher: typeof fetch = fetch): Promise<ReadonlySet<string>> {
  if (features === null) {
    features = fetcher('/api/v1/capabilities', { headers: { Accept: 'application/json' } })
      .then(async (r) => (r.ok ? new Set(((await r.json()) as CapabilitiesBody).features ?? []) : new Set<string>()))
      .catch(() => {
        features = null
        return new Set<string>()
      })
  }
  return features
}

/** Ask once per page load (public endpoints: no token needed). */
export function loadCapabilities(fetcher: typeof fetch = fetch): Promise<Capabilities> {
  if (cached === null) {
    cached = discover(fetcher).catch((error: unknown) => {
      cached = null
      throw error
    })
  }
  return cached
}

export function resetCapabilities(): void {
  cached = null
  features = null
}

async function discover(fetcher: typeof fetch): Promise<Capabilities> {
  const direct = await fetcher('/api/v1/capabilities', { headers: { Accept: 'application/json' } })
  if (direct.ok) {
    const body = (await direct.json()) as CapabilitiesBody
    return {
      operations: new Set(body.operations ?? []),
      features: new Set(body.features ?? []),
    }
  }
  const doc = await fetcher('/api/openapi.json', { headers: { Accept: 'application/json' } })
  if (!doc.ok) return { operations: new Set(), features: new Set() }
  return { operations: operationIds((await doc.json()) as OpenApiDoc), features: new Set() }
}

/** Operation ids of endpoints specified in BACKEND_NEEDS.md that the UI can use when present. */
export const OP = {
  sessionRefresh: 'auth-refresh_session',
  sessionLogout: 'auth-logout_session',
  dayEvidence: 'production-get_day_evidence',
  confirmReset: 'production-confirm_reset',
  approveEstimate: 'production-approve_estimate',
  createManualEntry: 'production-create_manual_entry',
  attachLabResult: 'production-attach_lab_result',
  signReport: 'reports-sign_report',
  approveAmendment: 'reports-approve_amendment',
  generateReport: 'reports-generate_report',
  submitReport: 'reports-submit_report',
  amendReport: 'reports-amend_report',
  forma9sh: 'reports-get_forma9sh',
} as const

/** Features (not endpoints) the server announces in `/api/v1/capabilities`. */
export const FEATURE = {
  /** Login may set the refresh token as an HttpOnly cookie (`"session": "cookie"`). */
  cookieSession: 'auth.cookie_session',
  /** The WebSocket takes `{"type":"auth","token":…}` as its first message. */
  wsAuthMessage: 'ws.auth_message',
  /** Signing (generate/sign/amend/approve) needs `totp` in the body when the user has TOTP. */
  totpStepUp: 'reports.totp_step_up',
} as const
