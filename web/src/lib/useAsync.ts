// A load function's result, error and loading flag, for views.
import { ref, shallowRef, type Ref, type ShallowRef } from 'vue'

export function useAsync<T>(load: () => Promise<T>): {
  data: ShallowRef<T | null>
  error: Ref<unknown>
  loading: Ref<boolean>
  run: () => Promise<void>
} {
  const data = shallowRef<T | null>(null)
  const error = ref<unknown>(null)
  const loading = ref(false)
  let generation = 0
  async function run(): Promise<void> {
    const mine = ++generation
    loading.value = true
    error.value = null
    try {
      const value = await load()
      if (mine === generation) data.value = value
    } catch (e) {
      if (mine === generation) error.value = e
    } finally {
      if (mine === generation) loading.value = false
    }
  }
  return { data, error, loading, run }
}
