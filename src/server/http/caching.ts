import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `Cache-Control` of the route's 200 answers; set, the answer also gets a strong `ETag` (its bytes'
     * SHA-256), a `304 Not Modified` for a matching `If-None-Match`, and br/gzip for clients that accept it
     * (see {@link installCaching}).
     */
    cacheControl?: string;
  }
}

/**
 * Cache policies of public answers (RFC 9111). Reference data (guides, industries, life events) changes
 * with a catalog import: 5 minutes fresh, then served stale for a day while revalidated in the background;
 * search and hall lists (opening status) 1 minute fresh, 10 minutes stale; the offline catalog sync is
 * always revalidated (its ETag makes an unchanged answer a body-less 304).
 */
export const CACHE = {
  reference: 'public, max-age=300, stale-while-revalidate=86400',
  short: 'public, max-age=60, stale-while-revalidate=600',
  revalidate: 'no-cache',
} as const;

/** Route options that make a GET route cacheable with `cacheControl` (see {@link installCaching}). */
export function cacheable(cacheControl: string): { config: { cacheControl: string } } {
  return { config: { cacheControl } };
}

/** Bodies shorter than this (bytes) are sent uncompressed: compression would gain nothing. */
const MIN_COMPRESS_BYTES = 1024;
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Conditional and compressed answers for the routes that opt in with `config.cacheControl`
 * ({@link cacheable}), on GET/HEAD 200 answers:
 * - `Cache-Control` as configured, `Vary: Accept-Encoding`;
 * - a strong `ETag`: the first 27 base64url characters of the SHA-256 of the uncompressed body; a
 *   compressed answer carries the same tag with `-br` / `-gz` appended (each encoding is its own
 *   representation, RFC 9110 §8.8.3), and `If-None-Match` matches any of them (or `*`) → `304`, no body;
 * - the body compressed with Brotli (quality 5) or gzip when the client's `Accept-Encoding` allows it
 *   and the body is at least 1 KiB — for 2G/3G clients; a reverse proxy doing the same is harmless.
 */
export function installCaching(app: FastifyInstance): void {
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const policy = reply.routeOptions.config?.cacheControl;
    if (!policy || reply.statusCode !== 200 || (req.method !== 'GET' && req.method !== 'HEAD'))
      return payload;
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const tag = createHash('sha256').update(body).digest('base64url').slice(0, 27);
    void reply.header('cache-control', policy);
    void reply.header('vary', 'Accept-Encoding');
    if (matches(req.headers['if-none-match'], tag)) {
      void reply.header('etag', `"${tag}"`);
      void reply.code(304);
      void reply.removeHeader('content-length');
      void reply.removeHeader('content-type');
      return '';
    }
    const encoding =
      body.length >= MIN_COMPRESS_BYTES ? chooseEncoding(req.headers['accept-encoding']) : null;
    if (!encoding) {
      void reply.header('etag', `"${tag}"`);
      return payload;
    }
    const compressed =
      encoding === 'br'
        ? await brotli(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } })
        : await gzip(body, { level: 6 });
    void reply.header('etag', `"${tag}-${encoding === 'br' ? 'br' : 'gz'}"`);
    void reply.header('content-encoding', encoding);
    void reply.removeHeader('content-length');
    return compressed;
  });
}

/** Whether an If-None-Match header names the tag (any encoding variant, weak or strong form, or `*`). */
function matches(header: string | string[] | undefined, tag: string): boolean {
  if (!header) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text.trim() === '*') return true;
  return text
    .split(',')
    .map((t) =>
      t
        .trim()
        .replace(/^W\//, '')
        .replace(/^"|"$/g, '')
        .replace(/-(br|gz)$/, ''),
    )
    .includes(tag);
}

/** br when accepted, else gzip, else null — from Accept-Encoding (a `q=0` refuses an encoding). */
function chooseEncoding(header: string | string[] | undefined): 'br' | 'gzip' | null {
  if (!header) return null;
  const accepted = new Set<string>();
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (name && !(q && Number(q.slice(2)) === 0)) accepted.add(name);
  }
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return null;
}
