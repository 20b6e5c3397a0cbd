/**
 * What the agent's phone keeps for 帮办代办 (IndexedDB through `idb`, database `tongban-agent`): the residents
 * the agent helps, the consents they gave (委托: the authorization body with its evidence — the signed form's
 * photo or the on-screen signature PNG) and the applications filed for them (the outbox entry ids, whose
 * states the outbox shows), so that all of it works with the network off. The guides come from the
 * catalog the app syncs onto the phone (offline/catalog.ts), not from a copy of the agent's own.
 * Every record carries the agent's account id: a second agent on the same phone sees only their own.
 *
 * The resident's ID number and phone are personal information (个人信息保护法 art. 28 treats the ID
 * number as sensitive): they stay on this device, are sent only with the application and the
 * authorization the resident consented to, and are removed with {@link forgetResident}.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';

/** A resident the agent helps (居民). */
export interface AgentResident {
  id: string;
  agentAccountId: string;
  name: string;
  /** 18-character resident ID number (checked with GB 11643 before it is saved) */
  idNumber: string;
  phone: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The evidence of a consent: a photo of the signed 委托书, or the resident's on-screen signature. */
export type ConsentKind = 'signed_form' | 'on_screen_signature';

/** A consent (委托) recorded on the device; sent as `POST /api/v1/agent-authorizations` by the outbox. */
export interface AgentConsent {
  /** device-generated key (the outbox's `authorization.clientRef`) */
  clientRef: string;
  agentAccountId: string;
  residentId: string;
  kind: ConsentKind;
  /** 12-digit basic codes the consent covers */
  itemCodes: string[];
  itemNames: string[];
  /** ISO 8601 with offset, end of the last valid day (China Standard Time) */
  validUntil: string;
  /** the body of POST /api/v1/agent-authorizations (evidence.sm3 computed on the device) */
  body: Record<string, unknown>;
  scan: { name: string; type: string; blob: Blob };
  /** SM3 of the scan's bytes, 64 hex */
  sm3: string;
  createdAt: string;
}

/** An application the agent queued for a resident; its state is the outbox entry's (same id). */
export interface AgentApplication {
  /** the outbox entry id (Idempotency-Key of the case) */
  id: string;
  agentAccountId: string;
  residentId: string;
  itemCode: string;
  itemName: string;
  consentRef: string;
  createdAt: string;
}

interface AgentDb extends DBSchema {
  residents: { key: string; value: AgentResident; indexes: { byAgent: string } };
  consents: { key: string; value: AgentConsent; indexes: { byResident: string } };
  applications: { key: string; value: AgentApplication; indexes: { byAgent: string; byResident: string } };
}

let dbPromise: Promise<IDBPDatabase<AgentDb>> | null = null;

function db(): Promise<IDBPDatabase<AgentDb>> {
  dbPromise ??= openDB<AgentDb>('tongban-agent', 2, {
    upgrade(d, oldVersion) {
      if (oldVersion < 1) {
        d.createObjectStore('residents', { keyPath: 'id' }).createIndex('byAgent', 'agentAccountId');
        d.createObjectStore('consents', { keyPath: 'clientRef' }).createIndex('byResident', 'residentId');
        const apps = d.createObjectStore('applications', { keyPath: 'id' });
        apps.createIndex('byAgent', 'agentAccountId');
        apps.createIndex('byResident', 'residentId');
      }
      // version 1 kept its own copies of the guides used; the synced catalog (offline/catalog.ts) has them
      const untyped = d as unknown as IDBPDatabase;
      if (untyped.objectStoreNames.contains('guides')) untyped.deleteObjectStore('guides');
    },
    blocking() {
      // a newer version was opened in another tab: let it upgrade; this page reopens on next use
      void dbPromise?.then((open) => open.close());
      dbPromise = null;
    },
  });
  return dbPromise;
}

/** The agent's residents, most recently updated first. */
export async function listResidents(agentAccountId: string): Promise<AgentResident[]> {
  const rows = await (await db()).getAllFromIndex('residents', 'byAgent', agentAccountId);
  return rows.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
}

/**
 * Saves a resident: the one with the same ID number (of this agent) is updated (name, phone), else a new
 * one is added. Returns the record as stored.
 */
export async function saveResident(
  agentAccountId: string,
  input: { name: string; idNumber: string; phone: string | null },
): Promise<AgentResident> {
  const d = await db();
  const now = new Date().toISOString();
  const idNumber = input.idNumber.trim().toUpperCase();
  const existing = (await d.getAllFromIndex('residents', 'byAgent', agentAccountId)).find(
    (r) => r.idNumber === idNumber,
  );
  const row: AgentResident = existing
    ? { ...existing, name: input.name.trim(), phone: input.phone, updatedAt: now }
    : {
        id: crypto.randomUUID(),
        agentAccountId,
        name: input.name.trim(),
        idNumber,
        phone: input.phone,
        createdAt: now,
        updatedAt: now,
      };
  await d.put('residents', row);
  return row;
}

/** Removes a resident and their consents and application records from this device (the outbox keeps its own). */
export async function forgetResident(residentId: string): Promise<void> {
  const d = await db();
  const tx = d.transaction(['residents', 'consents', 'applications'], 'readwrite');
  await tx.objectStore('residents').delete(residentId);
  for (const c of await tx.objectStore('consents').index('byResident').getAll(residentId))
    await tx.objectStore('consents').delete(c.clientRef);
  for (const a of await tx.objectStore('applications').index('byResident').getAll(residentId))
    await tx.objectStore('applications').delete(a.id);
  await tx.done;
}

export async function saveConsent(c: AgentConsent): Promise<void> {
  await (await db()).put('consents', c);
}

/** The resident's consents, newest first. */
export async function consentsOf(residentId: string): Promise<AgentConsent[]> {
  const rows = await (await db()).getAllFromIndex('consents', 'byResident', residentId);
  return rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/**
 * A consent of the resident still valid (on the device clock, with a day's margin for the time the
 * queue may wait) that covers the item, newest first; null when none.
 */
export async function consentFor(
  residentId: string,
  itemCode: string,
  now = Date.now(),
): Promise<AgentConsent | null> {
  const margin = 86_400_000;
  return (
    (await consentsOf(residentId)).find(
      (c) => c.itemCodes.includes(itemCode) && Date.parse(c.validUntil) > now + margin,
    ) ?? null
  );
}

export async function saveApplication(a: AgentApplication): Promise<void> {
  await (await db()).put('applications', a);
}

/** The agent's applications, newest first. */
export async function listApplications(agentAccountId: string): Promise<AgentApplication[]> {
  const rows = await (await db()).getAllFromIndex('applications', 'byAgent', agentAccountId);
  return rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
