// The virtual meters of a field's day (`GET /production/fields/{id}/days/{day}/allocation`):
// each well's liquid estimated from its pump speed, calibrated on its test, and Σ of a PMO's
// wells against what the PMO measured. Shown next to the signed allocation.
import { num } from '@/lib/allocation'

export interface VirtualWell {
  liquid: number | null
  oil: number | null
  coverage: number | null
  testSpeedSource: string | null
  note: string | null
}

export interface VirtualCheck {
  pmo: string
  fluid: string
  measured: number | null
  virtualTotal: number | null
  deviationPct: number | null
  bandPct: number | null
  diverges: boolean
}

export interface VirtualMeters {
  wells: Record<string, VirtualWell>
  checks: VirtualCheck[]
}

type Json = Record<string, unknown>
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {})
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** The virtual meters of the day's allocation answer; null when no well has one. */
export function readVirtualMeters(body: unknown): VirtualMeters | null {
  const wells: Record<string, VirtualWell> = {}
  for (const v of arr(obj(body).wells)) {
    const w = obj(v)
    const meter = obj(w.virtual_meter)
    if (w.virtual_meter === null || w.virtual_meter === undefined) continue
    wells[str(w.code) ?? ''] = {
      liquid: num(w.virtual_liquid_bbl),
      oil: num(meter.oil_bbl),
      coverage: num(meter.coverage_pct),
      testSpeedSource: str(meter.test_speed_source),
      note: str(meter.note),
    }
  }
  const checks = arr(obj(body).virtual_meter).map((v) => {
    const c = obj(v)
    return {
      pmo: str(c.pmo) ?? '',
      fluid: str(c.fluid) ?? '',
      measured: num(c.measured),
      virtualTotal: num(c.virtual_total),
      deviationPct: num(c.deviation_pct),
      bandPct: num(c.band_pct),
      diverges: c.diverges === true,
    }
  })
  if (Object.keys(wells).length === 0 && checks.length === 0) return null
  return { wells, checks }
}
