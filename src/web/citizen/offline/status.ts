/**
 * What the always-visible status line needs of the outbox, without loading the outbox itself (its
 * sender and IndexedDB code come in a later chunk, offline/start.ts): the counts, kept up to date by
 * offline/outbox.ts. Zero until the outbox has read the stored entries.
 */
import { readonly, ref } from 'vue';

const pending = ref(0);
const attention = ref(0);

/** Applications on this device not yet sent (waiting, sending, or needing attention). */
export const pendingTotal = readonly(pending);
/** Of those, the ones that need the user (state `attention`). */
export const attentionTotal = readonly(attention);

/** Called by offline/outbox.ts whenever its entries change. */
export function setOutboxCounts(counts: { pending: number; attention: number }): void {
  pending.value = counts.pending;
  attention.value = counts.attention;
}
