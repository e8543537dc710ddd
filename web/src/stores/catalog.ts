// The caller's site: fields, PMOs, wells and series (loaded once per login; small).
import { defineStore } from 'pinia'
import { computed, shallowRef } from 'vue'
import { api, unwrap, type Schemas } from '@/api/client'

export type Field = Schemas['FieldOut']
export type Pmo = Schemas['PmoOut']
export type Well = Schemas['WellOut']
export type Series = Schemas['SeriesOut']

export const useCatalogStore = defineStore('catalog', () => {
  const fields = shallowRef<Field[]>([])
  const pmos = shallowRef<Pmo[]>([])
  const wells = shallowRef<Well[]>([])
  const series = shallowRef<Series[]>([])
  let loading: Promise<void> | null = null
  let loaded = false

  async function fetchAll(): Promise<void> {
    const [f, p, w, s] = await Promise.all([
      api.GET('/api/v1/fields'),
      api.GET('/api/v1/pmos', { params: { query: {} } }),
      api.GET('/api/v1/wells', { params: { query: {} } }),
      api.GET('/api/v1/series', { params: { query: {} } }),
    ])
    fields.value = unwrap(f)
    // A role without site.read (e.g. an API key scope) still gets fields; the rest may 403.
    pmos.value = p.response.ok ? (p.data ?? []) : []
    wells.value = w.response.ok ? (w.data ?? []) : []
    series.value = s.response.ok ? (s.data ?? []) : []
    loaded = true
  }

  function load(): Promise<void> {
    if (loaded) return Promise.resolve()
    if (loading === null) {
      loading = fetchAll().finally(() => {
        loading = null
      })
    }
    return loading
  }

  function reset(): void {
    loaded = false
    fields.value = []
    pmos.value = []
    wells.value = []
    series.value = []
  }

  const fieldById = computed(() => new Map(fields.value.map((f) => [f.id, f])))
  const pmoById = computed(() => new Map(pmos.value.map((p) => [p.id, p])))
  const seriesById = computed(() => new Map(series.value.map((s) => [s.id, s])))
  const wellById = computed(() => new Map(wells.value.map((w) => [w.id, w])))

  /** The series that carries a PMO's volume: the totalizer when there is one, else the rate. */
  function volumeSeries(pmo: Pmo): { rate?: Series; total?: Series } {
    const own = series.value.filter((s) => s.pmo_id === pmo.id)
    return {
      rate: own.find((s) => s.variable.endsWith('_rate')),
      total: own.find((s) => s.variable.endsWith('_total')),
    }
  }

  return {
    fields,
    pmos,
    wells,
    series,
    load,
    reset,
    fieldById,
    pmoById,
    seriesById,
    wellById,
    volumeSeries,
  }
})
