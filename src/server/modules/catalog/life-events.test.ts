import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../testing/app-error.ts';
import { loadLifeEvents } from './life-events.ts';
import { loadSampleCatalogSource } from './sample.ts';

describe('data/catalog/life-events.json', () => {
  it('names only items of the sample catalog that serve natural persons, each event once', () => {
    const events = loadLifeEvents();
    const items = new Map(loadSampleCatalogSource().items.map((i) => [i.code, i]));
    expect(events.length).toBeGreaterThanOrEqual(10);
    for (const e of events)
      for (const code of e.itemCodes) {
        expect(items.has(code), `${e.id}: ${code}`).toBe(true);
        expect(items.get(code)!.serviceObjects, `${e.id}: ${code}`).toContain('natural_person');
      }
    for (const e of events) expect(new Set(e.itemCodes).size, e.id).toBe(e.itemCodes.length);
    for (const e of events) expect(e.names?.en, e.id).toBeTruthy();
  });

  it('refuses a file with a duplicate id or a malformed code, naming each field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-life-'));
    const file = path.join(dir, 'life-events.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        events: [
          { id: 'birth', name: '出生', itemCodes: ['070001001000'] },
          { id: 'birth', name: '又出生', itemCodes: ['not a code'] },
        ],
      }),
    );
    const e = errorOf(() => loadLifeEvents(file));
    expect(e.code).toBe('catalog.life_events_invalid');
    expect(e.issues?.map((i) => i.field)).toEqual(['events.1.itemCodes.0']);
    fs.writeFileSync(
      file,
      JSON.stringify({
        events: [
          { id: 'birth', name: '出生', itemCodes: ['070001001000'] },
          { id: 'birth', name: '又出生', itemCodes: ['070001001000'] },
        ],
      }),
    );
    expect(errorOf(() => loadLifeEvents(file)).issues?.map((i) => i.field)).toEqual(['events.1.id']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
