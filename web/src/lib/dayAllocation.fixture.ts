// The allocation route's answer for a hand-worked day (strings: the API's decimals), shared by
// the mapping and the component tests. Not imported by the app.
//
// PMO-OIL measured 7928.64 bbl. Oil tests: W-1 (ESP) 4800 bbl/d and W-2 (rod pump) 3920 bbl/d,
// both 24 h on: Σ theoretical 8720.00, factor 7928.64 / 8720 = 0.909248 → 0.90925. Allocated:
// W-1 4800 × 0.909248 = 4364.3890, W-2 3920 × 0.909248 = 3564.2510; to the cent by largest
// remainder: 4364.38 + 3564.25 = 7928.63, the last cent to W-1 (0.90 > 0.10): 4364.39 + 3564.25.
// W-3 shut in all day: 0 h on, 24 h down (power failure), its 600 bbl/d test deferred 600.00 bbl.
// Virtual meters: W-1 5500.00 bbl liquid at 4 % water cut, 5280.00 oil; W-2 4800.00 at 2 %,
// 4704.00 oil; Σ 9984.00 against 7928.64 measured: (9984.00 − 7928.64) / 7928.64 = +25.92 %,
// beyond ±10 %: the divergence finding (IDP035 in the report).
// Balance: produced 7928.64 = dispatched 7900.00 + stock change 20.00 + residual 8.64, within
// the tolerance 39.64 (0.5 %).
export const DIVERGES_MESSAGE =
  "the wells' virtual meters add up to 9984.00 bbl of oil, the PMO measured 7928.64 bbl (+25.92 %), beyond ±10.0 %: meter drift, a misrouted well or unreported flow"

export const ROUTE = {
  field_id: 1,
  day: '2026-02-02',
  computed: true,
  wells: [
    {
      code: 'W-1', name: 'Pozo 1', production_method: 'esp', status: 'producing', hours_on: '24.00', hours_source: 'telemetry',
      test_date: '2026-01-25', test_age_days: 8, test_state: 'valid', oil_bbl: '4364.39', gas_kscf: null, water_bbl: null,
      factors: { oil: '0.90925' }, bsw_pct: null, gor_scf_bbl: null, hours_down: '0', deferred_oil_bbl: null,
      deferred_gas_kscf: null, deferred_water_bbl: null, deferred_causes: [], findings: [],
      virtual_liquid_bbl: '5500.00',
      virtual_meter: {
        method: 'esp', test_date: '2026-01-25', test_state: 'valid', test_speed: '55.0', test_speed_source: 'telemetry',
        bbl_d_per_unit: '100.0000', efficiency: null, coverage_pct: '100.0', correction_factor: '1.0000',
        water_cut_pct: '4.00', oil_bbl: '5280.00', water_bbl: '220.00', note: null,
      },
    },
    {
      code: 'W-2', name: 'Pozo 2', production_method: 'rod_pump', status: 'producing', hours_on: '24.00', hours_source: 'telemetry',
      test_date: '2026-01-20', test_age_days: 13, test_state: 'valid', oil_bbl: '3564.25', gas_kscf: null, water_bbl: null,
      factors: { oil: '0.90925' }, bsw_pct: null, gor_scf_bbl: null, hours_down: '0', deferred_oil_bbl: null,
      deferred_gas_kscf: null, deferred_water_bbl: null, deferred_causes: [], findings: [],
      virtual_liquid_bbl: '4800.00',
      virtual_meter: {
        method: 'rod_pump', test_date: '2026-01-20', test_state: 'valid', test_speed: '10.0', test_speed_source: 'manual',
        bbl_d_per_unit: '480.0000', efficiency: '0.85', coverage_pct: '100.0', correction_factor: '1.0000',
        water_cut_pct: '2.00', oil_bbl: '4704.00', water_bbl: '96.00', note: null,
      },
    },
    {
      code: 'W-3', name: 'Pozo 3', production_method: 'pcp', status: 'shut_in', hours_on: '0.00', hours_source: 'status',
      test_date: '2026-01-10', test_age_days: 23, test_state: 'valid', oil_bbl: '0.00', gas_kscf: null, water_bbl: null,
      factors: { oil: '0.90925' }, bsw_pct: null, gor_scf_bbl: null, hours_down: '24.00', deferred_oil_bbl: '600.00',
      deferred_gas_kscf: null, deferred_water_bbl: null,
      deferred_causes: [{ cause: 'power_failure', hours_down: '24.00', oil: '600.00', gas: null, water: null }],
      findings: [], virtual_liquid_bbl: null, virtual_meter: null,
    },
  ],
  pmos: [
    { pmo: 'PMO-OIL', fluid: 'oil', measured: '7928.64', theoretical_total: '8720.00', factor: '0.90925', allocated_total: '7928.64', unallocated: '0.00' },
  ],
  virtual_meter: [
    { pmo: 'PMO-OIL', fluid: 'oil', measured: '7928.64', virtual_total: '9984.00', deviation_pct: '25.92', band_pct: '10.0', diverges: true, wells: ['W-1', 'W-2'] },
  ],
  balances: [
    {
      fluid: 'oil', produced: '7928.64', terms: [{ name: 'dispatched', volume: '7900.00' }, { name: 'stock_change', volume: '20.00' }],
      residual: '8.64', tolerance: '39.64', closes: true,
    },
  ],
  findings: [{ code: 'virtual_meter_diverges', severity: 'warning', target: 'PMO-OIL', message: DIVERGES_MESSAGE }],
}

/** The same day as a signed document (profile idp-1.2) holds it: JSON numbers, nested test/deferred. */
export const SIGNED_DOC = {
  profile: 'idp-1.2',
  wells: [
    { code: 'W-1', name: 'Pozo 1', status: 'producing', hours_on: 24, hours_source: 'telemetry', test: { date: '2026-01-25', age_days: 8, state: 'valid' }, oil_net_bbl: 4364.39, gas_kpc: null, water_bbl: null, factors: { oil: 0.90925, gas: null, water: null }, deferred: { hours_down: 0, causes: [] }, findings: [] },
    { code: 'W-2', name: 'Pozo 2', status: 'producing', hours_on: 24, hours_source: 'telemetry', test: { date: '2026-01-20', age_days: 13, state: 'valid' }, oil_net_bbl: 3564.25, gas_kpc: null, water_bbl: null, factors: { oil: 0.90925, gas: null, water: null }, deferred: { hours_down: 0, causes: [] }, findings: [] },
    { code: 'W-3', name: 'Pozo 3', status: 'shut_in', hours_on: 0, hours_source: 'status', test: { date: '2026-01-10', age_days: 23, state: 'valid' }, oil_net_bbl: 0, gas_kpc: null, water_bbl: null, factors: { oil: 0.90925, gas: null, water: null }, deferred: { hours_down: 24, oil_bbl: 600, causes: [{ cause: 'power_failure', hours_down: 24, oil: 600 }] }, findings: [] },
  ],
  balances: [{ fluid: 'oil', produced: 7928.64, terms: [{ name: 'dispatched', volume: 7900 }, { name: 'stock_change', volume: 20 }], residual: 8.64, tolerance: 39.64, closes: true }],
  allocation: {
    pmos: [{ pmo: 'PMO-OIL', fluid: 'oil', measured: 7928.64, theoretical_total: 8720, factor: 0.90925, allocated_total: 7928.64, unallocated: 0 }],
    totals_by_role: [],
    findings: [{ code: 'virtual_meter_diverges', severity: 'warning', target: 'PMO-OIL', message: DIVERGES_MESSAGE }],
  },
}

/**
 * The route after a recompute once the day was signed: late data raised PMO-OIL to 7934.25 bbl;
 * factor 7934.25 / 8720 = 0.909891 → 0.90989; W-1 4800 × 0.909891 = 4367.4771, W-2 3920 × 0.909891
 * = 3566.7729: 4367.47 + 3566.77 = 7934.24, the last cent to W-1 (0.71 > 0.29): 4367.48 + 3566.77.
 * The oil balance: residual 7934.25 − 7900.00 − 20.00 = 14.25, tolerance 0.5 % = 39.67.
 */
export const RECOMPUTED = {
  ...ROUTE,
  wells: ROUTE.wells.map((w) =>
    w.code === 'W-1' ? { ...w, oil_bbl: '4367.48', factors: { oil: '0.90989' } } : w.code === 'W-2' ? { ...w, oil_bbl: '3566.77', factors: { oil: '0.90989' } } : w,
  ),
  pmos: [{ ...ROUTE.pmos[0]!, measured: '7934.25', factor: '0.90989', allocated_total: '7934.25' }],
  balances: [{ ...ROUTE.balances[0]!, produced: '7934.25', residual: '14.25', tolerance: '39.67' }],
}
