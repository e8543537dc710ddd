// Formatting bound to the current UI locale (numbers, dates, durations).
import { computed } from 'vue'
import { useI18n } from 'vue-i18n'
import * as f from './format'

export function useFormat(timeZone = 'America/Bogota') {
  const { locale } = useI18n()
  const loc = computed(() => (locale.value === 'en' ? 'en' : 'es-CO') as f.Locale)
  return {
    locale: loc,
    num: (v: number | null | undefined, digits = 2) => f.formatNumber(v, loc.value, digits),
    qty: (v: number | null | undefined, unit: string, digits = 2) =>
      f.formatQuantity(v, unit, loc.value, digits),
    pct: (v: number | null | undefined, digits = 1) => f.formatPercent(v, loc.value, digits),
    factor: (v: number | null | undefined) => f.formatFactor(v, loc.value),
    dateTime: (v: string | number | Date | null | undefined, seconds = false) =>
      f.formatDateTime(v, loc.value, timeZone, seconds),
    day: (d: string) => f.formatDay(d, loc.value),
    duration: f.formatDuration,
    unit: f.unitLabel,
  }
}
