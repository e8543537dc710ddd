// The day's allocation before it is signed (`GET /production/fields/{id}/days/{day}/allocation`):
// the same table as the signed report's (wells, allocation factors, balances, findings), read
// from what the daily compute stored. Once a version is signed its document wins; what was
// computed since (a recompute after signing: late data, a lab result, a proving) is compared
// with it figure by figure so that the sign-off can say they differ.
import {
  FLUIDS,
  arr,
  deferredCause,
  finding,
  num,
  obj,
  str,
  type DayAllocation,
  type Finding,
  type Fluid,
  type WellRow,
} from '@/lib/allocation'

function well(v: unknown): WellRow {
  const w = obj(v)
  const factors = obj(w.factors)
  return {
    code: str(w.code) ?? '',
    name: str(w.name) ?? str(w.code) ?? '',
    status: str(w.status),
    hoursOn: num(w.hours_on),
    hoursSource: str(w.hours_source),
    testDate: str(w.test_date),
    testAgeDays: num(w.test_age_days),
    testState: str(w.test_state),
    oil: num(w.oil_bbl),
    gas: num(w.gas_kscf),
    water: num(w.water_bbl),
    factors: { oil: num(factors.oil), gas: num(factors.gas), water: num(factors.water) },
    hoursDown: num(w.hours_down),
    deferred: { oil: num(w.deferred_oil_bbl), gas: num(w.deferred_gas_kscf), water: num(w.deferred_water_bbl) },
    causes: arr(w.deferred_causes).map(deferredCause),
    findings: arr(w.findings).map(finding),
  }
}

/** The allocation table of the route's answer; null when the day is not computed (or has no wells). */
export function readComputedAllocation(body: unknown): DayAllocation | null {
  const b = obj(body)
  if (b.computed !== true) return null
  const wells = arr(b.wells).map(well)
  const pmos = arr(b.pmos).map((v) => {
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
  const balances = arr(b.balances).map((v) => {
    const x = obj(v)
    return {
      fluid: str(x.fluid) ?? '',
      produced: num(x.produced),
      terms: arr(x.terms).map((t) => ({ name: str(obj(t).name) ?? '', volume: num(obj(t).volume) })),
      residual: num(x.residual),
      tolerance: num(x.tolerance),
      closes: x.closes === true,
    }
  })
  if (wells.length === 0 && pmos.length === 0 && balances.length === 0) return null
  return { profile: null, wells, balances, pmos, findings: arr(b.findings).map(finding) }
}

/**
 * The report rule that an allocation finding becomes once the day is generated
 * (src/anh_reporter/reports/rules.py): IDP032 for any allocation error, IDP033 an allocation
 * factor out of its band, IDP034 a balance that does not close, IDP035 the virtual meters
 * diverging from the PMO. Null: the finding has no rule of its own.
 */
export function ruleOf(f: Finding): string | null {
  if (f.code === 'virtual_meter_diverges') return 'IDP035'
  if (f.code === 'balance_not_closed') return 'IDP034'
  if (f.code === 'allocation_factor_out_of_band') return 'IDP033'
  if (f.severity === 'error') return 'IDP032'
  return null
}

/** One figure where what is computed now differs from the signed document. */
export interface AllocationChange {
  /** A well code, `PMO/fluid`, or a fluid (its balance). */
  target: string
  /** A well's allocated volume of a fluid (`oil`, `gas`, `water`) or `well` (a well in one of
   * them only: 1 present, null absent); a PMO's `measured` or `allocated` volume; a balance's
   * `produced` volume or `residual`. */
  figure: Fluid | 'well' | 'measured' | 'allocated' | 'produced' | 'residual'
  signed: number | null
  computed: number | null
}

/** Volumes are kept to the hundredth: closer than half of it is the same figure. */
const same = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) < 0.005)

/**
 * What changed between the signed allocation and the one computed now: each well's allocated
 * oil, gas and water, wells present in one only, each production PMO's measured and allocated
 * volume, each balance's produced volume and residual. Empty when they agree.
 */
export function allocationChanges(signed: DayAllocation, computed: DayAllocation): AllocationChange[] {
  const out: AllocationChange[] = []
  const now = new Map(computed.wells.map((w) => [w.code, w]))
  const then = new Map(signed.wells.map((w) => [w.code, w]))
  for (const w of signed.wells) {
    const c = now.get(w.code)
    if (!c) {
      out.push({ target: w.code, figure: 'well', signed: 1, computed: null })
      continue
    }
    for (const fl of FLUIDS) {
      if (!same(w[fl], c[fl])) out.push({ target: w.code, figure: fl, signed: w[fl], computed: c[fl] })
    }
  }
  for (const c of computed.wells) {
    if (!then.has(c.code)) out.push({ target: c.code, figure: 'well', signed: null, computed: 1 })
  }
  const pmos = new Map(computed.pmos.map((p) => [`${p.pmo}/${p.fluid}`, p]))
  for (const p of signed.pmos) {
    const c = pmos.get(`${p.pmo}/${p.fluid}`)
    if (!c) continue
    if (!same(p.measured, c.measured)) out.push({ target: `${p.pmo}/${p.fluid}`, figure: 'measured', signed: p.measured, computed: c.measured })
    if (!same(p.allocatedTotal, c.allocatedTotal)) {
      out.push({ target: `${p.pmo}/${p.fluid}`, figure: 'allocated', signed: p.allocatedTotal, computed: c.allocatedTotal })
    }
  }
  const balances = new Map(computed.balances.map((b) => [b.fluid, b]))
  for (const b of signed.balances) {
    const c = balances.get(b.fluid)
    if (!c) continue
    if (!same(b.produced, c.produced)) out.push({ target: b.fluid, figure: 'produced', signed: b.produced, computed: c.produced })
    if (!same(b.residual, c.residual)) out.push({ target: b.fluid, figure: 'residual', signed: b.residual, computed: c.residual })
  }
  return out
}
