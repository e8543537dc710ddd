// Routes (history mode; the API serves index.html for every non-API path). Views load lazily so
// the first page only downloads what it shows.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { useCatalogStore } from '@/stores/catalog'
// The first screen of a cold load: in the entry chunk, no second round trip before it paints.
import LoginView from '@/views/LoginView.vue'

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: LoginView, meta: { public: true } },
  { path: '/', name: 'home', component: () => import('@/views/HomeView.vue') },
  {
    path: '/fields/:fieldId(\\d+)',
    name: 'overview',
    component: () => import('@/views/OverviewView.vue'),
    props: (r) => ({ fieldId: Number(r.params.fieldId) }),
  },
  {
    path: '/fields/:fieldId(\\d+)/live',
    name: 'live',
    component: () => import('@/views/LiveView.vue'),
    props: (r) => ({ fieldId: Number(r.params.fieldId) }),
  },
  {
    path: '/fields/:fieldId(\\d+)/signoff/:day(\\d{4}-\\d{2}-\\d{2})?',
    name: 'signoff',
    component: () => import('@/views/SignoffView.vue'),
    props: (r) => ({ fieldId: Number(r.params.fieldId), day: (r.params.day as string) || undefined }),
  },
  {
    path: '/fields/:fieldId(\\d+)/pmos/:pmoId(\\d+)',
    name: 'pmo',
    component: () => import('@/views/PmoView.vue'),
    props: (r) => ({ fieldId: Number(r.params.fieldId), pmoId: Number(r.params.pmoId) }),
  },
  {
    path: '/fields/:fieldId(\\d+)/wells/:wellId(\\d+)',
    name: 'well',
    component: () => import('@/views/WellView.vue'),
    props: (r) => ({ fieldId: Number(r.params.fieldId), wellId: Number(r.params.wellId) }),
  },
  {
    path: '/fields/:fieldId(\\d+)/production',
    name: 'production',
    component: () => import('@/views/ProductionView.vue'),
    props: (r) => ({ fieldId: Number(r.params.fieldId) }),
  },
  {
    path: '/series/:seriesId(\\d+)/spc',
    name: 'spc',
    component: () => import('@/views/SpcView.vue'),
    props: (r) => ({ seriesId: Number(r.params.seriesId) }),
  },
  { path: '/anomalies', name: 'anomalies', component: () => import('@/views/AnomaliesView.vue') },
  { path: '/reports', name: 'reports', component: () => import('@/views/ReportsView.vue') },
  {
    path: '/reports/:reportId(\\d+)',
    name: 'report',
    component: () => import('@/views/ReportView.vue'),
    props: (r) => ({ reportId: Number(r.params.reportId) }),
  },
  { path: '/logs', name: 'logs', component: () => import('@/views/LogsView.vue') },
  { path: '/admin', name: 'admin', component: () => import('@/views/AdminView.vue') },
  { path: '/account', name: 'account', component: () => import('@/views/AccountView.vue') },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue'), meta: { public: true } },
]

export const router = createRouter({ history: createWebHistory(), routes })

let restored = false

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  if (to.meta.public) {
    // The login page paints at once; a cookie session, if any, is resumed on the next route.
    return true
  }
  if (!restored) {
    restored = true
    if (!auth.loggedIn) await auth.restore().catch(() => false)
  }
  if (!auth.loggedIn) return { name: 'login', query: { next: to.fullPath } }
  await useCatalogStore().load()
  return true
})
