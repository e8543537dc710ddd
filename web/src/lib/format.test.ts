import { describe, expect, it } from 'vitest'
import {
  addDays,
  contractDayBounds,
  contractDayOf,
  formatDateTime,
  formatDuration,
  formatFactor,
  formatNumber,
  formatPercent,
  formatQuantity,
} from './format'

describe('numbers in es-CO', () => {
  it('writes the LACT net volume of the demo as the report reads it', () => {
    // es-CO: '.' groups thousands (also for four digits), ',' separates decimals.
    expect(formatQuantity(7928.64, 'bbl')).toBe('7.928,64\u00a0bbl')
    expect(formatQuantity(213460.61, 'bbl')).toBe('213.460,61\u00a0bbl')
  })
  it('rounds half away to two decimals and keeps the sign', () => {
    expect(formatNumber(-1234.5)).toBe('-1.234,50')
    expect(formatNumber(0.125, 'es-CO', 2)).toBe('0,13')
  })
  it('writes English with the English separators', () => {
    expect(formatQuantity(7928.64, 'bbl', 'en')).toBe('7,928.64\u00a0bbl')
  })
  it('shows a dash for missing values, never NaN', () => {
    expect(formatNumber(null)).toBe('—')
    expect(formatNumber(Number.NaN)).toBe('—')
    expect(formatQuantity(undefined, 'bbl')).toBe('—')
  })
  it('names gas volumes in KPC and factors with five decimals', () => {
    expect(formatQuantity(1229.72, 'kscf')).toBe('1.229,72\u00a0KPC')
    expect(formatFactor(0.96985)).toBe('0,96985')
    expect(formatPercent(95.25)).toBe('95,3\u00a0%')
  })
})

describe('dates and contract days in America/Bogota', () => {
  it('writes an instant in Bogota time (UTC-5), 24 h', () => {
    expect(formatDateTime('2026-12-06T11:00:00Z')).toBe('06/12/2026, 06:00')
  })
  it('puts contract day 2026-12-05 (06:00 start) from 11:00 UTC to 11:00 UTC next day', () => {
    // 06:00 in Bogota (UTC-5, no daylight saving) is 11:00 UTC.
    const b = contractDayBounds('2026-12-05', 6)
    expect(b.start.toISOString()).toBe('2026-12-05T11:00:00.000Z')
    expect(b.end.toISOString()).toBe('2026-12-06T11:00:00.000Z')
  })
  it('assigns 05:59 local to the previous contract day and 06:00 to the same one', () => {
    expect(contractDayOf(new Date('2026-12-06T10:59:59Z'), 6)).toBe('2026-12-05')
    expect(contractDayOf(new Date('2026-12-06T11:00:00Z'), 6)).toBe('2026-12-06')
  })
  it('handles a midnight start and the year end', () => {
    expect(contractDayOf(new Date('2027-01-01T04:59:00Z'), 0)).toBe('2026-12-31')
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(contractDayBounds('2026-12-31', 0).end.toISOString()).toBe('2027-01-01T05:00:00.000Z')
  })
  it('refuses a start hour outside 0..23', () => {
    expect(() => contractDayBounds('2026-12-05', 24)).toThrow(/startHour: 24/)
  })
  it('writes durations in hours and minutes', () => {
    expect(formatDuration(42)).toBe('42 s')
    expect(formatDuration(3900)).toBe('1 h 05 min')
    expect(formatDuration(null)).toBe('—')
  })
})
