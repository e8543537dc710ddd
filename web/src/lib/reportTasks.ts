// Report generation and amendment run as tasks: queue, then poll until they end.
import { api, callExtra, unwrap, type Schemas } from '@/api/client'

export type Task = Schemas['ReportTask']
// A material amendment's task ends `awaiting_approval`: it waits for a second person, not for
// this poll.
const DONE = new Set<Task['status']>(['succeeded', 'blocked', 'awaiting_approval', 'failed'])

export async function waitForTask(task: Task, onUpdate?: (t: Task) => void): Promise<Task> {
  let current = task
  let delay = 250
  while (!DONE.has(current.status)) {
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(2000, delay * 1.5)
    current = unwrap(
      await api.GET('/api/v1/reports/tasks/{task_id}', { params: { path: { task_id: current.task_id } } }),
    )
    onUpdate?.(current)
  }
  return current
}

export async function generate(fieldId: number, day: string, totp?: string): Promise<Task> {
  // `totp` is the step-up code (BACKEND_NEEDS.md); an older server ignores the extra member.
  const body = totp ? { field_id: fieldId, day, totp } : { field_id: fieldId, day }
  return unwrap(await api.POST('/api/v1/reports/generate', { body }))
}

export type ReasonCode = Schemas['AmendRequest']['reason_code']
export const REASON_CODES: ReasonCode[] = [
  'meter_factor', 'late_data', 'lab_result', 'manual_correction', 'meter_reset', 'estimate',
  'configuration', 'regulator_request', 'other',
]

export async function amend(reportId: number, reasonCode: ReasonCode, reason: string, totp?: string): Promise<Task> {
  const body = totp ? { reason_code: reasonCode, reason, totp } : { reason_code: reasonCode, reason }
  return unwrap(
    await api.POST('/api/v1/reports/{report_id}/amend', { params: { path: { report_id: reportId } }, body }),
  )
}

export async function sign(reportId: number, version: number, totp?: string): Promise<Schemas['VersionOut']> {
  return callExtra('POST', `/api/v1/reports/${reportId}/versions/${version}/sign`, totp ? { totp } : {})
}

/** A second person approves the material amendment waiting on a report (a task). */
export async function approveAmendment(reportId: number, totp?: string): Promise<Task> {
  return callExtra('POST', `/api/v1/reports/${reportId}/amendment/approve`, totp ? { totp } : undefined)
}
