/**
 * CI drift check: generates migrations from the current schema into a scratch copy of migrations/ and
 * fails when that produces anything new, i.e. when a schema.ts change has no committed migration.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
// drizzle-kit wants a path relative to the project (it prefixes './'), so the scratch copy lives in var/.
const rel = `var/migration-check-${process.pid}`;
const scratch = path.join(root, rel);
fs.rmSync(scratch, { recursive: true, force: true });
fs.mkdirSync(path.dirname(scratch), { recursive: true });
fs.cpSync(path.join(root, 'migrations'), scratch, { recursive: true });
const before = fs.readdirSync(scratch).sort();
const out = execFileSync(
  process.execPath,
  [
    path.join(root, 'node_modules/drizzle-kit/bin.cjs'),
    'generate',
    '--dialect=postgresql',
    '--schema=./src/server/modules/*/schema.ts',
    `--out=./${rel}`,
    '--name=drift_check',
  ],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
);
if (!/No schema changes|nothing to migrate|Your SQL migration file/i.test(out)) {
  fs.rmSync(scratch, { recursive: true, force: true });
  console.error(`drizzle-kit did not report a result; its output was:\n${out}`);
  process.exit(1);
}
const after = fs.readdirSync(scratch).sort();
fs.rmSync(scratch, { recursive: true, force: true });
const added = after.filter((f) => !before.includes(f));
if (added.length > 0) {
  console.error(`Schema and migrations/ have drifted: drizzle-kit would add ${added.join(', ')}.`);
  console.error('Run `npm run db:generate -- --name <change>` and commit the new migration.');
  process.exit(1);
}
console.log(
  `migrations match the schema (${before.filter((f) => f.endsWith('.sql')).length} migration files)`,
);
