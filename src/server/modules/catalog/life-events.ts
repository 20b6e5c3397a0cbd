import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BasicCodeSchema } from '../../../domain/catalog.ts';
import { invalidMany } from '../../../domain/errors.ts';

/**
 * 人生事件 (life events): the shipped browsing themes of the citizen app — 出生, 上学, 就业创业 … — each
 * grouping the items a resident typically needs at that moment, by basic code (most needed first).
 * Reference data in `data/catalog/life-events.json` (provenance in data/catalog/README.md).
 */
export const LifeEventSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9_]{1,39}$/, 'a lower-case identifier, e.g. birth')
      .describe('stable identifier, e.g. birth (translations key on it)'),
    name: z.string().min(1).max(20).describe('中文 name, e.g. 出生'),
    names: z
      .record(z.string().min(2).max(10), z.string().min(1).max(60))
      .optional()
      .describe('names in other languages by BCP 47 tag, e.g. { "en": "Having a baby" }'),
    itemCodes: z.array(BasicCodeSchema).min(1).max(100).describe('basic codes, most needed first'),
  })
  .meta({ id: 'LifeEvent' });
export type LifeEvent = z.infer<typeof LifeEventSchema>;

const LifeEventsFileSchema = z.object({
  $comment: z.string().optional(),
  events: z.array(LifeEventSchema).min(1).max(100),
});

/** The shipped file: `data/catalog/life-events.json`. */
export const LIFE_EVENTS_FILE = new URL('../../../../data/catalog/life-events.json', import.meta.url);

/**
 * Reads and checks a life-events file: `{ events: LifeEvent[] }`, ids unique.
 * @throws AppError(validation, `catalog.life_events_invalid`) listing every problem (`events.3.itemCodes.0` …).
 */
export function loadLifeEvents(file: string | URL = LIFE_EVENTS_FILE): LifeEvent[] {
  const text = readFileSync(file, 'utf8');
  const parsed = LifeEventsFileSchema.safeParse(JSON.parse(text));
  const issues = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'events', message: i.message }));
  const events = parsed.success ? parsed.data.events : [];
  const seen = new Set<string>();
  events.forEach((e, i) => {
    if (seen.has(e.id)) issues.push({ field: `events.${i}.id`, message: `${e.id} appears twice` });
    seen.add(e.id);
  });
  if (issues.length > 0)
    throw invalidMany(
      'catalog.life_events_invalid',
      `${file instanceof URL ? file.pathname : file} is invalid: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
      issues,
    );
  return events;
}
