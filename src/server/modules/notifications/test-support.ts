import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * Test support for the notifications tests (never imported by production code): a real SMTP server, a
 * real HTTP server standing in for a push service / SMS gateway, a browser-side Web Push subscription with
 * an RFC 8291 decrypter written independently of the `web-push` package (node:crypto ECDH + HKDF +
 * AES-128-GCM), and a VAPID (RFC 8292) JWT verifier.
 */

// ------------------------------------------------------------------------------------------------ SMTP

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface TestSmtpServer {
  url: string;
  mails: ReceivedMail[];
  /** RCPT TO commands seen (also the rejected ones). */
  rcptAttempts: number;
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 (random port). `rejectRcpt`: answer every RCPT TO with that code (e.g.
 * 451 temporary, 550 permanent).
 */
export async function startSmtpServer(options: { rejectRcpt?: number } = {}): Promise<TestSmtpServer> {
  const state: TestSmtpServer = { url: '', mails: [], rcptAttempts: 0, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      state.rcptAttempts++;
      if (options.rejectRcpt) {
        const err = Object.assign(new Error(`Mailbox unavailable (test ${options.rejectRcpt})`), {
          responseCode: options.rejectRcpt,
        });
        callback(err);
      } else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        state.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

/** Decodes RFC 2047 encoded words (adjacent words joined, bytes collected before UTF-8 decoding). */
export function decodeEncodedWords(value: string): string {
  const re = /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g;
  let out = '';
  let last = 0;
  let pending: Buffer[] = [];
  const flush = () => {
    if (pending.length) out += Buffer.concat(pending).toString('utf8');
    pending = [];
  };
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const between = value.slice(last, m.index);
    if (!(pending.length && /^\s*$/.test(between))) {
      flush();
      out += between;
    }
    const text = m[3] ?? '';
    pending.push(
      m[2]!.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : decodeQuotedPrintable(text.replaceAll('_', ' ')),
    );
    last = m.index + m[0].length;
  }
  flush();
  return out + value.slice(last);
}

function decodeQuotedPrintable(s: string): Buffer {
  const bytes: number[] = [];
  const text = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes);
}

/** A single-part text mail: decoded headers (lower-case names) and the decoded UTF-8 body. */
export function parseMail(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = decodeEncodedWords(line.slice(i + 1).trim());
  }
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text =
    cte === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : cte === 'quoted-printable'
        ? decodeQuotedPrintable(body).toString('utf8')
        : body;
  return { headers, text: text.replace(/\r\n$/, '') };
}

// ------------------------------------------------------------------------------------------------ HTTP

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface TestHttpServer {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records requests and answers with `status(path)` (default 201). */
export async function startHttpServer(status: (path: string) => number = () => 201): Promise<TestHttpServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks) });
      res.statusCode = status(path);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// -------------------------------------------------------------------------------------------- Web Push

/** What a browser holds for one push subscription: its ECDH key pair and auth secret. */
export interface BrowserSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** RFC 8291 decryption of an `aes128gcm` push message body with this subscription's private key. */
  decrypt(body: Buffer): string;
}

export function browserSubscription(endpoint: string): BrowserSubscription {
  const ecdh = createECDH('prime256v1');
  const uaPublic = ecdh.generateKeys();
  const authSecret = randomBytes(16);
  return {
    endpoint,
    keys: { p256dh: uaPublic.toString('base64url'), auth: authSecret.toString('base64url') },
    decrypt(body: Buffer): string {
      // RFC 8188 header: salt (16) | rs (uint32) | idlen (1) | keyid (the sender's ECDH public key)
      const salt = body.subarray(0, 16);
      const rs = body.readUInt32BE(16);
      const idlen = body[20]!;
      const asPublic = body.subarray(21, 21 + idlen);
      const record = body.subarray(21 + idlen);
      if (idlen !== 65 || record.length > rs) throw new Error('not a single-record aes128gcm message');
      // RFC 8291 §3.3–3.4
      const ecdhSecret = ecdh.computeSecret(asPublic);
      const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
      const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
      const cek = Buffer.from(
        hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16),
      );
      const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
      const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
      decipher.setAuthTag(record.subarray(record.length - 16));
      const plain = Buffer.concat([
        decipher.update(record.subarray(0, record.length - 16)),
        decipher.final(),
      ]);
      // padding: the last record ends with 0x02 followed by zero or more 0x00
      let end = plain.length - 1;
      while (end >= 0 && plain[end] === 0) end--;
      if (plain[end] !== 2) throw new Error('bad padding delimiter');
      return plain.subarray(0, end).toString('utf8');
    },
  };
}

/**
 * Verifies `Authorization: vapid t=<JWT>, k=<public key>` (RFC 8292): ES256 signature by `k`, audience
 * = the endpoint's origin, expiry in the future (≤ 24 h). @returns the JWT claims and `k`.
 */
export function verifyVapid(
  authorization: string | undefined,
  origin: string,
): { k: string; claims: { aud: string; exp: number; sub: string } } {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) throw new Error(`not a VAPID authorization: ${authorization}`);
  const [h, p, s] = m[1]!.split('.') as [string, string, string];
  const k = Buffer.from(m[2]!, 'base64url');
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: k.subarray(1, 33).toString('base64url'),
      y: k.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
  if (!ok) throw new Error('VAPID signature does not verify');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  if (header.alg !== 'ES256') throw new Error(`VAPID alg ${header.alg}`);
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  if (claims.aud !== origin) throw new Error(`VAPID aud ${claims.aud} ≠ ${origin}`);
  const now = Date.now() / 1000;
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600 + 60)) throw new Error(`VAPID exp ${claims.exp}`);
  return { k: m[2]!, claims };
}
