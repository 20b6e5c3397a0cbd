/**
 * `npm start` pre-step: builds the web client (vite) when dist/web is missing or older than src/web,
 * so a fresh clone serves the page without a separate build command.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'dist/web/index.html');
const src = path.join(root, 'src/web');

function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

if (fs.existsSync(src) && fs.existsSync(path.join(src, 'vite.config.ts'))) {
  const built = fs.existsSync(out) ? fs.statSync(out).mtimeMs : 0;
  if (built < newest(src)) {
    console.log('building the web client (vite)…');
    execFileSync(
      process.execPath,
      [
        path.join(root, 'node_modules/vite/bin/vite.js'),
        'build',
        '--config',
        'src/web/vite.config.ts',
        '--logLevel',
        'warn',
      ],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
  }
}
