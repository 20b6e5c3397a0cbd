/**
 * Names of things a case refers to by code or id (item, department, hall), fetched once per page load
 * and shown when they arrive (the code until then).
 */
import { reactive } from 'vue';
import { api } from './api/client.ts';
import { request } from './api/http.ts';

const items = reactive<Record<string, string>>({});
const departments = reactive<Record<string, string>>({});
const halls = reactive<Record<string, string>>({});
const asked = new Set<string>();

function once(key: string, load: () => Promise<void>): void {
  if (asked.has(key)) return;
  asked.add(key);
  load().catch(() => asked.delete(key));
}

/** 事项名称 of an item code. */
export function itemName(code: string): string {
  once(`i:${code}`, async () => {
    items[code] = (
      await request<{ name: string }>('GET', `/api/v1/catalog/items/${encodeURIComponent(code)}`)
    ).name;
  });
  return items[code] ?? code;
}

/** Name of a department id. */
export function departmentName(id: string | null | undefined): string {
  if (!id) return '—';
  once(`d:${id}`, async () => {
    departments[id] = (await api.department(id)).name;
  });
  return departments[id] ?? '…';
}

/** Name of a hall code. */
export function hallName(code: string | null | undefined): string {
  if (!code) return '—';
  once(`h:${code}`, async () => {
    halls[code] = (await api.hall(code)).name;
  });
  return halls[code] ?? code;
}
