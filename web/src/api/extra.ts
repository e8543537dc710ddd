// Shapes of the endpoints BACKEND_NEEDS.md asks for (not in the committed schema yet). The UI
// calls them only when loadCapabilities() lists their operation ids.

export type EventKind =
  | 'gap'
  | 'rollover'
  | 'reset'
  | 'backstep'
  | 'injected'
  | 'detected'
  | 'manual_entry'
  | 'contract_hour_split'

export interface DayEvent {
  id: number
  kind: EventKind
  series_id: number | null
  start: string
  end: string | null
  before_value: number | null
  after_value: number | null
  volume: number | null
  /** `needs_confirmation` blocks signing until someone confirms the reset or replaces it. */
  status: 'info' | 'needs_confirmation' | 'confirmed' | 'replaced'
  confirmed_by: string | null
  reason: string | null
  message: string
}

export interface Estimate {
  /** The production code's estimate methods; the API types it as a plain string. */
  method: 'counter_difference_across_gap' | 'reset_estimate' | 'rate_interpolation' | 'last_good_rate' | 'manual_entry' | (string & {})
  window_start: string
  window_end: string
  volume: number
}

export interface PmoEvidence {
  pmo_id: number
  measured_volume: number | null
  estimated_volume: number | null
  estimated_share_pct: number | null
  estimate_limit_pct: number
  estimate_approval: {
    status: 'not_needed' | 'pending' | 'approved'
    approved_by: string | null
    approved_at: string | null
    reason: string | null
  }
  estimates: Estimate[]
  events: DayEvent[]
}

export interface DayEvidence {
  field_id: number
  day: string
  day_start: string
  day_end: string
  pmos: PmoEvidence[]
}

export type ManualLevel = 'indicated' | 'gov' | 'gsv' | 'nsv'

export interface ManualEntryCreate {
  pmo_id: number
  day: string
  level: ManualLevel
  window_start: string | null
  window_end: string | null
  volume: number
  reason: string
  totp?: string
}

export interface LabResultCreate {
  pmo_id: number
  day: string
  sampled_at: string
  api_gravity: number | null
  bsw_percent: number | null
  lab_reference: string
  reason: string
}
