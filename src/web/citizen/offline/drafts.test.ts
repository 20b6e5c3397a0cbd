import { describe, expect, it } from 'vitest';
import { effectScope, nextTick, reactive } from 'vue';
import { DRAFT_DEBOUNCE_MS, type DraftStore, useDraft } from './drafts.ts';
import { plain } from './plain.ts';

/** Drafts kept in a Map, cloned as IndexedDB would (structured clone: a Proxy would throw). */
function memoryDrafts() {
  const map = new Map<string, { value: unknown; savedAt: number }>();
  const saves: string[] = [];
  const store: DraftStore = {
    async load(key) {
      const d = map.get(key);
      return d ? structuredClone(d) : undefined;
    },
    async save(key, value) {
      saves.push(key);
      const savedAt = Date.now();
      map.set(key, structuredClone({ value, savedAt }));
      return new Date(savedAt);
    },
    async delete(key) {
      map.delete(key);
    },
  };
  return { store, map, saves };
}

const stored = (map: Map<string, { value: unknown }>, key: string) => map.get(key)?.value as Form | undefined;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Form {
  name: string;
  phone: string;
  photo: Blob | null;
  tags: string[];
}
const EMPTY: Form = { name: '', phone: '', photo: null, tags: [] };

describe('useDraft', () => {
  it('saves once, debounced, as the user types; keeps Blobs; restores on reopen', async () => {
    const { store, map, saves } = memoryDrafts();
    const scope = effectScope();
    const draft = scope.run(() => useDraft<Form>('apply:050002001000', EMPTY, store))!;
    await draft.ready;
    expect(draft.restored.value).toBe(false);
    for (const c of '杨离线') draft.value.value.name += c;
    draft.value.value.tags.push('a');
    draft.value.value.photo = new Blob(['jpeg bytes'], { type: 'image/jpeg' });
    await wait(DRAFT_DEBOUNCE_MS / 2);
    expect(saves).toHaveLength(0);
    await wait(DRAFT_DEBOUNCE_MS + 100);
    expect(saves).toEqual(['apply:050002001000']);
    expect(draft.savedAt.value).toBeInstanceOf(Date);
    const first = stored(map, 'apply:050002001000');
    expect(first?.name).toBe('杨离线');
    expect(first?.photo).toBeInstanceOf(Blob);
    expect(await first?.photo?.text()).toBe('jpeg bytes');
    // a change just before the form closes is written when its scope ends, not lost
    draft.value.value.phone = '139';
    scope.stop();
    await wait(20);
    expect(stored(map, 'apply:050002001000')?.phone).toBe('139');

    const reopened = useDraft<Form>('apply:050002001000', EMPTY, store);
    await reopened.ready;
    expect(reopened.restored.value).toBe(true);
    expect(reopened.value.value).toMatchObject({ name: '杨离线', phone: '139', tags: ['a'] });
    expect(saves).toHaveLength(2); // restoring is not a change
    await reopened.clear();
    expect(map.has('apply:050002001000')).toBe(false);
    expect(reopened.value.value).toEqual(EMPTY);
    await wait(DRAFT_DEBOUNCE_MS + 50);
    expect(saves).toHaveLength(2); // nor is clearing
  });

  it('does not overwrite what the user typed before the stored draft arrived', async () => {
    const { store, map } = memoryDrafts();
    map.set('k', { value: { ...EMPTY, name: 'old' }, savedAt: 1 });
    const draft = useDraft<Form>('k', EMPTY, store);
    draft.value.value.name = 'new';
    await draft.ready;
    await nextTick();
    expect(draft.value.value.name).toBe('new');
    expect(draft.restored.value).toBe(false);
    await draft.save();
    expect(stored(map, 'k')?.name).toBe('new');
  });
});

describe('plain', () => {
  it('unwraps reactive proxies deeply (storable), keeps Blobs and Dates, drops functions', () => {
    const blob = new Blob(['x']);
    const value = reactive({ a: { b: [1, { c: 'd' }] }, blob, at: new Date(0), fn: () => 1 });
    expect(() => structuredClone(value)).toThrow();
    const copy = plain(value) as unknown as Record<string, unknown>;
    expect(() => structuredClone(copy)).not.toThrow();
    expect(copy).toEqual({ a: { b: [1, { c: 'd' }] }, blob, at: new Date(0) });
    expect(copy.blob).toBe(blob);
  });
});
