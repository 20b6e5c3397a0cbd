/**
 * Writes the OpenAPI document of the current code to docs/openapi.json (`npm run openapi`).
 * A test (src/server/main.test.ts) fails when the committed file differs from what the code serves,
 * so the published API description cannot drift from the implementation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer } from '../src/server/testing.ts';

export const OPENAPI_FILE = path.resolve(import.meta.dirname, '../docs/openapi.json');

const server = await startTestServer();
try {
  const doc = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json();
  fs.writeFileSync(OPENAPI_FILE, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)} (${Object.keys(doc.paths).length} paths)`);
} finally {
  await server.close();
}
