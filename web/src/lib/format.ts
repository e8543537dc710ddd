// Numbers, dates and contract days as the people who sign the report read them: es-CO by
// default (7.928,64 bbl), times in the field's time zone (America/Bogota).

export type Locale = 'es-CO' | 'en'

const numberFormats = new Map<string, Intl.NumberFormat>()

function numberFormat(locale: Locale, digits: number): Intl.NumberFormat {
  const key = `${locale}|${digits}`
  let f = numberFormats.get(key)
  if (f === undefined) {
    f = new Intl.NumberFormat(locale, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    })
    numberFormats.set(key, f)
  }
  return f
}

/** A number with fixed decimals in the locale; an em dash for a missing value. */
export function formatNumber(
  value: number | null | undefined,
  locale: Locale = 'es-CO',
  digits = 2,
): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  return numberFormat(locale, digits).format(value)
}

/** Units as the report writes them. */
const UNIT_LABELS: Record<string, string> = {
  degF: '°F',
  degAPI: '°API',
  kscf: 'KPC',
  'kscf/d': 'KPC/d',
}

export function unitLabel(unit: string): string {
  return UNIT_LABELS[unit] ?? unit
}

/** A quantity with its unit: `7.928,64 bbl`. */
export function formatQuantity(
  value: number | null | undefined,
  unit: string,
  locale: Locale = 'es-CO',
  digits = 2,
): string {
  const text = formatNumber(value, locale, digits)
  return text === '—' ? text : `${text}\u00a0${unitLabel(unit)}`
}

/** A percentage given in percent (95.3 → `95,3 %`). */
export function formatPercent(
  value: number | null | undefined,
  locale: Locale = 'es-CO',
  digits = 1,
): string {
  const text = formatNumber(value, locale, digits)
  return text === '—' ? text : `${text}\u00a0%`
}

/** A correction factor as the standard rounds it (5 decimals). */
export function formatFactor(value: number | null | undefined, locale: Locale = 'es-CO'): string {
  return formatNumber(value, locale, 5)
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>()

function dateTimeFormat(locale: Locale, timeZone: string, seconds: boolean): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${seconds}`
  let f = dateTimeFormats.get(key)
  if (f === undefined) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: seconds ? '2-digit' : undefined,
      hourCycle: 'h23',
    })
    dateTimeFormats.set(key, f)
  }
  return f
}

/** An instant in the field's time zone: `06/12/2026, 23:02`. */
export function formatDateTime(
  value: string | number | Date | null | undefined,
  locale: Locale = 'es-CO',
  timeZone = 'America/Bogota',
  seconds = false,
): string {
  if (value === null || value === undefined) return '—'
  const date = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(date.getTime())) return '—'
  return dateTimeFormat(locale, timeZone, seconds).format(date)
}

/** A calendar day (`2026-12-05`) written in the locale, without any time-zone shift. */
export function formatDay(day: string, locale: Locale = 'es-CO'): string {
  const [y, m, d] = day.split('-').map(Number)
  if (y === undefined || m === undefined || d === undefined) return day
  return new Intl.DateTimeFormat(locale, {
    timeZone: 'UTC',
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
  }).format(new Date(Date.UTC(y, m - 1, d)))
}

/** A duration in seconds as `1 h 05 min` / `42 s`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  const h = Math.floor(s / 3600)
  const min = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h} h ${String(min).padStart(2, '0')} min` : `${min} min`
}

// --- contract days -------------------------------------------------------------------------

/** Offset of `timeZone` from UTC at `instant`, in minutes (Bogota: -300). */
export function zoneOffsetMinutes(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(instant)
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0)
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  )
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000)
}

/** The UTC instant of a local wall-clock time in `timeZone`. */
export function localToUtc(
  day: string,
  hour: number,
  timeZone: string,
): Date {
  const [y, m, d] = day.split('-').map(Number)
  if (y === undefined || m === undefined || d === undefined || Number.isNaN(y + m + d)) {
    throw new Error(`day: '${day}' is not YYYY-MM-DD`)
  }
  const guess = new Date(Date.UTC(y, m - 1, d, hour))
  // Two passes settle the offset even next to a DST change.
  let utc = new Date(guess.getTime() - zoneOffsetMinutes(guess, timeZone) * 60_000)
  utc = new Date(guess.getTime() - zoneOffsetMinutes(utc, timeZone) * 60_000)
  return utc
}

export interface ContractDayBounds {
  start: Date
  end: Date
}

/** Contract day `day` runs from `startHour` local on `day` to `startHour` local the next day. */
export function contractDayBounds(
  day: string,
  startHour: number,
  timeZone = 'America/Bogota',
): ContractDayBounds {
  if (!Number.isInteger(startHour) || startHour < 0 || startHour > 23) {
    throw new Error(`startHour: ${startHour} is not an hour 0..23`)
  }
  return {
    start: localToUtc(day, startHour, timeZone),
    end: localToUtc(addDays(day, 1), startHour, timeZone),
  }
}

/** The contract day an instant belongs to. */
export function contractDayOf(
  instant: Date,
  startHour: number,
  timeZone = 'America/Bogota',
): string {
  const local = new Date(instant.getTime() + zoneOffsetMinutes(instant, timeZone) * 60_000)
  const shifted = new Date(local.getTime() - startHour * 3_600_000)
  return shifted.toISOString().slice(0, 10)
}

/** `day` plus `n` days (calendar arithmetic on YYYY-MM-DD). */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number)
  if (y === undefined || m === undefined || d === undefined) throw new Error(`day: '${day}'`)
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10)
}
