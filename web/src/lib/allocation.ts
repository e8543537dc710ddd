// The well allocation of a signed daily report (profile idp-1.2): per-well rows, the balances
// per fluid and the allocation factor of each production PMO, read from the signed document
// (`GET /reports/{id}/download`). Older profiles carry fewer fields: what is missing reads as
// null, and a document without wells gives null.

export type Fluid = 'oil' | 'gas' | 'water'
export const FLUIDS: readonly Fluid[] = ['oil', 'gas', 'water']

/** The unit a fluid's volume is reported in (gas in KPC, thousands of standard cubic feet). */
export function fluidUnit(fluid: string): string {
  return fluid === 'gas' ? 'kscf' : 'bbl'
}

export interface DeferredCause {
  cause: string
  hoursDown: number | null
  oil: number | null
  gas: number | null
  water: number | null
}

export interface WellRow {
  code: string
  name: string
  status: string | null
  hoursOn: number | null
  hoursSource: string | null
  testDate: string | null
  testAgeDays: number | null
  testState: string | null
  oil: number | null
  gas: number | null
  water: number | null
  factors: Record<Fluid, number | null>
  hoursDown: number | null
  deferred: Record<Fluid, number | null>
  causes: DeferredCause[]
  findings: Finding[]
}

export interface Finding {
  code: string
  severity: string
  target: string
  message: string
}

export interface BalanceTerm {
  name: string
  volume: number | null
}

export interface BalanceRow {
  fluid: string
  produced: number | null
  terms: BalanceTerm[]
  residual: number | null
  tolerance: number | null
  closes: boolean
}

export interface PmoAllocation {
  pmo: string
  fluid: string
  measured: number | null
  theoreticalTotal: number | null
  factor: number | null
  allocatedTotal: number | null
  unallocated: number | null
}

export interface DayAllocation {
  profile: string | null
  wells: WellRow[]
  balances: BalanceRow[]
  pmos: PmoAllocation[]
  findings: Finding[]
}

export type Json = Record<string, unknown>

export function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

/** A number from the document (JSON number, or a decimal string as stored rows keep them). */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v)
    return Number.isFinite(n) ? n : null
  }
  return null
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null
}

/** A deferred-production cause of a well (the same shape in the document and the route). */
export function deferredCause(v: unknown): DeferredCause {
  const x = obj(v)
  return {
    cause: str(x.cause) ?? '',
    hoursDown: num(x.hours_down),
    oil: num(x.oil),
    gas: num(x.gas),
    water: num(x.water),
  }
}

export function finding(v: unknown): Finding {
  const f = obj(v)
  return {
    code: str(f.code) ?? '',
    severity: str(f.severity) ?? 'info',
    target: str(f.target) ?? '',
    message: str(f.message) ?? '',
  }
}

function well(v: unknown): WellRow {
  const w = obj(v)
  const test = obj(w.test)
  const factors = obj(w.factors)
  const deferred = obj(w.deferred)
  return {
    code: str(w.code) ?? '',
    name: str(w.name) ?? str(w.code) ?? '',
    status: str(w.status),
    hoursOn: num(w.hours_on),
    hoursSource: str(w.hours_source),
    testDate: str(test.date),
    testAgeDays: num(test.age_days),
    testState: str(test.state),
    oil: num(w.oil_net_bbl),
    gas: num(w.gas_kpc),
    water: num(w.water_bbl),
    factors: { oil: num(factors.oil), gas: num(factors.gas), water: num(factors.water) },
    hoursDown: num(deferred.hours_down),
    deferred: { oil: num(deferred.oil_bbl), gas: num(deferred.gas_kpc), water: num(deferred.water_bbl) },
    causes: arr(deferred.causes).map(deferredCause),
    findings: arr(w.findings).map(finding),
  }
}

/** The allocation part of a signed report document; null when it has no wells. */
export function readAllocation(doc: unknown): DayAllocation | null {
  const d = obj(doc)
  const wells = arr(d.wells).map(well)
  const allocation = obj(d.allocation)
  const balances: BalanceRow[] = arr(d.balances).map((v) => {
    const b = obj(v)
    return {
      fluid: str(b.fluid) ?? '',
      produced: num(b.produced),
      terms: arr(b.terms).map((t) => ({ name: str(obj(t).name) ?? '', volume: num(obj(t).volume) })),
      residual: num(b.residual),
      tolerance: num(b.tolerance),
      closes: b.closes === true,
    }
  })
  const pmos: PmoAllocation[] = arr(allocation.pmos).map((v) => {
    const p = obj(v)
    return {
      pmo: str(p.pmo) ?? '',
      fluid: str(p.fluid) ?? '',
      measured: num(p.measured),
      theoreticalTotal: num(p.theoretical_total),
      factor: num(p.factor),
      allocatedTotal: num(p.allocated_total),
      unallocated: num(p.unallocated),
    }
  })
  if (wells.length === 0 && balances.length === 0 && pmos.length === 0) return null
  return {
    profile: str(d.profile),
    wells,
    balances,
    pmos,
    findings: arr(allocation.findings).map(finding),
  }
}

/** The residual as a share of what was produced, in % (null when nothing was produced). */
export function residualPct(b: BalanceRow): number | null {
  if (b.residual === null || b.produced === null || b.produced === 0) return null
  return (100 * b.residual) / Math.abs(b.produced)
}

export type WellFlag =
  | 'test_expired'
  | 'no_test'
  | 'hours_estimated'
  | 'down'
  | 'not_producing'
  | 'finding_error'
  | 'finding_warning'

/**
 * What a reviewer should look at in a well's row, in a fixed order: an expired or missing test,
 * hours on not measured (from the status log, or none), downtime with deferred volume, a status
 * other than producing, and findings about the well by their worst severity.
 */
export function wellFlags(w: WellRow): WellFlag[] {
  const flags: WellFlag[] = []
  if (w.testState === 'expired') flags.push('test_expired')
  else if (w.testState === 'none') flags.push('no_test')
  if (w.hoursSource === 'status' || w.hoursSource === 'none') flags.push('hours_estimated')
  if ((w.hoursDown ?? 0) > 0 || w.causes.length > 0) flags.push('down')
  if (w.status !== null && w.status !== 'producing') flags.push('not_producing')
  if (w.findings.some((f) => f.severity === 'error')) flags.push('finding_error')
  else if (w.findings.some((f) => f.severity === 'warning')) flags.push('finding_warning')
  return flags
}

/** The wells' deferred volume of a fluid (null when no well has one). */
export function deferredTotal(rows: readonly WellRow[], fluid: Fluid): number | null {
  let any = false
  let sum = 0
  for (const r of rows) {
    const v = r.deferred[fluid]
    if (v !== null) {
      any = true
      sum += v
    }
  }
  return any ? sum : null
}

/** The sum of the wells' allocated volume of a fluid (null when no well has one). */
export function allocatedTotal(rows: readonly WellRow[], fluid: Fluid): number | null {
  let any = false
  let sum = 0
  for (const r of rows) {
    const v = r[fluid]
    if (v !== null) {
      any = true
      sum += v
    }
  }
  return any ? sum : null
}

/** The month (`YYYY-MM`) a contract day (`YYYY-MM-DD`) belongs to, for the Forma 9SH. */
export function monthOf(day: string): string {
  return /^\d{4}-\d{2}/.exec(day)?.[0] ?? ''
}

/** A Forma 9SH month as the API takes it (`YYYY-MM`, 1970-2199). */
export function isForma9shMonth(month: string): boolean {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month)
  if (!m) return false
  const year = Number(m[1])
  return year >= 1970 && year <= 2199
}

/** The path of a field's Forma 9SH for a month in a format. */
export function forma9shPath(fieldId: number, month: string, format: 'csv' | 'xlsx'): string {
  return `/api/v1/reports/fields/${fieldId}/forma9sh/${encodeURIComponent(month)}?format=${format}`
}
