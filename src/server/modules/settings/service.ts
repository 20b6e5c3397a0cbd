import { eq } from 'drizzle-orm';
import type { Db } from '../../db/index.ts';
import { systemSettings } from './schema.ts';

/** The settings module's public face: values created once per installation, the same on every node. */
export class SettingsService {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /**
   * The stored value of `key`, creating it with `generate()` on first use. Concurrent first uses (several
   * nodes starting at once) all get the one value that was stored first.
   */
  async getOrCreate(key: string, generate: () => string): Promise<string> {
    await this.db.insert(systemSettings).values({ key, value: generate() }).onConflictDoNothing();
    const [row] = await this.db.select().from(systemSettings).where(eq(systemSettings.key, key));
    return row!.value;
  }
}
