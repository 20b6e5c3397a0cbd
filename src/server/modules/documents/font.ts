import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { AppError } from '../../../domain/errors.ts';

/** The CJK font documents are set in, as loaded by {@link loadDocumentFont}. */
export interface DocumentFont {
  /** The font file's bytes (TrueType/OpenType, or a collection with {@link family}). */
  bytes: Buffer;
  /** For a collection (.ttc/.otc): the PostScript name of the face to use. */
  family?: string;
  /** Where it came from, for logs: `DOCUMENT_FONT`, the npm package, or the system font. */
  source: string;
}

/** Noto Sans SC Regular (OFL-1.1), shipped by the npm package `@expo-google-fonts/noto-sans-sc`. */
const PACKAGED_FONT = '@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf';
/** Debian's fonts-noto-cjk (a collection): the fallback when the package is missing. */
const SYSTEM_FONT = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';
const SYSTEM_FAMILY = 'NotoSansCJKsc-Regular';

function packagedFontPath(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@expo-google-fonts/noto-sans-sc/package.json'));
    const file = path.join(dir, PACKAGED_FONT.split('/').slice(2).join('/'));
    return fs.existsSync(file) ? file : null;
  } catch {
    return null;
  }
}

/**
 * Finds the CJK font for documents, in this order: `DOCUMENT_FONT` (path of a .ttf/.otf, or of a
 * .ttc/.otc with `DOCUMENT_FONT_FAMILY` naming the face, default `NotoSansCJKsc-Regular`), the Noto Sans SC
 * shipped as an npm dependency (so `npm start` works on any machine), then Debian's fonts-noto-cjk.
 * Only the glyphs a document uses are embedded (a subset), so the size of the file does not matter.
 * @throws AppError(unavailable, `document.font_missing`, field `DOCUMENT_FONT`) when `DOCUMENT_FONT` names a
 *   missing file or no font is found at all.
 */
export function loadDocumentFont(env: NodeJS.ProcessEnv = process.env): DocumentFont {
  const configured = env.DOCUMENT_FONT?.trim();
  if (configured) {
    if (!fs.existsSync(configured))
      throw new AppError(
        'unavailable',
        'document.font_missing',
        `DOCUMENT_FONT is ${configured}, but there is no such file. Point it at a TrueType/OpenType font with Chinese glyphs (e.g. NotoSansSC-Regular.ttf), or unset it to use the packaged Noto Sans SC.`,
        { field: 'DOCUMENT_FONT' },
      );
    const collection = /\.(ttc|otc)$/i.test(configured);
    return {
      bytes: fs.readFileSync(configured),
      ...(collection ? { family: env.DOCUMENT_FONT_FAMILY?.trim() || SYSTEM_FAMILY } : {}),
      source: `DOCUMENT_FONT=${configured}`,
    };
  }
  const packaged = packagedFontPath();
  if (packaged) return { bytes: fs.readFileSync(packaged), source: PACKAGED_FONT };
  if (fs.existsSync(SYSTEM_FONT))
    return { bytes: fs.readFileSync(SYSTEM_FONT), family: SYSTEM_FAMILY, source: SYSTEM_FONT };
  throw new AppError(
    'unavailable',
    'document.font_missing',
    `No font with Chinese glyphs for documents: the npm package @expo-google-fonts/noto-sans-sc is not installed (run npm ci) and ${SYSTEM_FONT} is absent. Set DOCUMENT_FONT to a .ttf/.otf/.ttc file.`,
    { field: 'DOCUMENT_FONT' },
  );
}

/**
 * Base URL of the public site, for the tracking link printed as a QR code on documents:
 * `PUBLIC_BASE_URL` (e.g. `https://zwfw.guizhou.gov.cn`), else `http://<HOST>:<PORT>` of this server.
 * @throws AppError(validation, field `PUBLIC_BASE_URL`) when it is not an http(s) URL.
 */
export function publicBaseUrlFrom(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.PUBLIC_BASE_URL?.trim();
  if (configured) {
    let url: URL | undefined;
    try {
      url = new URL(configured);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new AppError(
        'validation',
        'config.invalid',
        `PUBLIC_BASE_URL must be an http(s) URL such as https://zwfw.example.gov.cn (got ${configured}).`,
        { field: 'PUBLIC_BASE_URL' },
      );
    return configured.replace(/\/+$/, '');
  }
  const host = env.HOST?.trim() || '127.0.0.1';
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${env.PORT?.trim() || '3000'}`;
}
