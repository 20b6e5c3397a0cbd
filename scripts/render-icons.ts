/**
 * Renders the citizen app's PNG icons (src/web/public/icons/*.png) from their SVG sources in Debian's
 * Chromium, so the icons need no image library: `node scripts/render-icons.ts` after editing an SVG,
 * then commit the PNGs. Sizes: 192 and 512 px (the web manifest's `any` icons), 512 px maskable, and
 * the 180 px apple-touch-icon.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const dir = fileURLToPath(new URL('../src/web/public/icons/', import.meta.url));
const OUTPUTS = [
  { svg: 'icon.svg', png: 'icon-192.png', size: 192 },
  { svg: 'icon.svg', png: 'icon-512.png', size: 512 },
  { svg: 'icon.svg', png: 'apple-touch-icon.png', size: 180 },
  { svg: 'maskable.svg', png: 'maskable-512.png', size: 512 },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  for (const o of OUTPUTS) {
    const page = await browser.newPage({ viewport: { width: o.size, height: o.size }, deviceScaleFactor: 1 });
    const svg = fs.readFileSync(path.join(dir, o.svg), 'utf8');
    await page.setContent(
      `<!doctype html><style>html,body{margin:0;background:transparent}svg{display:block;width:${o.size}px;height:${o.size}px}</style>${svg}`,
    );
    await page.screenshot({ path: path.join(dir, o.png), omitBackground: true });
    await page.close();
    console.log(`${o.png} (${o.size} px)`);
  }
} finally {
  await browser.close();
}
