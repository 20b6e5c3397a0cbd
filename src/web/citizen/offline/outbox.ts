/**
 * Placeholder of the outbox (issue 6, offline core): the API the views call. Replaced by the real one.
 */
import { type Ref, ref } from 'vue';
import type { NewOutboxEntry, OutboxEntry } from './types.ts';

export const entries: Ref<OutboxEntry[]> = ref([]);

/** Stores the application on the device and sends it when the network allows. */
export async function enqueue(entry: NewOutboxEntry): Promise<OutboxEntry> {
  throw new Error(`outbox not built yet: ${entry.label}`);
}
/** Sends again now (after the user fixed it: `patch` replaces parts of the body). */
export async function resend(_id: string, _patch?: Partial<Pick<OutboxEntry, 'body' | 'files'>>): Promise<void> {}
/** Removes an entry the user gave up on (never a sent one's case). */
export async function remove(_id: string): Promise<void> {}
