/**
 * The evidence of a resident's consent, made on the phone: the on-screen confirmation (the consent text and
 * the resident's signature drawn with signature_pad, rendered together into ONE PNG), or the photo of the
 * signed 委托书 (compressed with browser-image-compression); and the SM3 digest (GB/T 32905, sm-crypto-v2)
 * of the file's bytes, which the authorization records and the server checks when the file is uploaded.
 * The libraries are imported when used, so none of them is in the page's first load.
 */

/** SM3 digest (64 lower-case hex) of a file's bytes. */
export async function sm3Hex(blob: Blob): Promise<string> {
  const { sm3 } = await import('sm-crypto-v2');
  return sm3(new Uint8Array(await blob.arrayBuffer()));
}

/** Longest side of a compressed photo (pixels) and its largest size (MB, 10^6 bytes), legible for a form. */
const PHOTO = { maxWidthOrHeight: 1600, maxSizeMB: 0.4 } as const;

/**
 * A photo (camera or gallery) compressed on the device to JPEG, at most 1,600 px on its longest side and
 * ~400 KB; a PDF is kept as it is. Runs on the main thread (the library's worker would be fetched from a
 * CDN, which a phone offline — or in a county without access to it — cannot reach).
 * @throws Error when the file is neither an image nor a PDF, or cannot be decoded.
 */
export async function compressPhoto(file: File): Promise<File> {
  if (file.type === 'application/pdf') return file;
  if (!file.type.startsWith('image/')) throw new Error(`not an image: ${file.type || file.name}`);
  const { default: imageCompression } = await import('browser-image-compression');
  const out = await imageCompression(file, { ...PHOTO, useWebWorker: false, fileType: 'image/jpeg' });
  const name = file.name.replace(/\.[^.]+$/, '') || 'photo';
  return new File([out], `${name}.jpg`, { type: 'image/jpeg', lastModified: Date.now() });
}

/** What the signature pad component exposes (the library's object, loaded when the pad is shown). */
export interface SignaturePadHandle {
  isEmpty(): boolean;
  clear(): void;
  off(): void;
}

/**
 * Turns `canvas` into a signature pad (signature_pad, imported now), sized to its CSS box at the device's
 * pixel ratio, dark ink on white. `onChange` is called after each stroke.
 */
export async function attachSignaturePad(
  canvas: HTMLCanvasElement,
  onChange: () => void,
): Promise<SignaturePadHandle> {
  const { default: SignaturePad } = await import('signature_pad');
  const ratio = Math.max(window.devicePixelRatio || 1, 1);
  const box = canvas.getBoundingClientRect();
  canvas.width = Math.round(box.width * ratio);
  canvas.height = Math.round(box.height * ratio);
  canvas.getContext('2d')?.scale(ratio, ratio);
  const pad = new SignaturePad(canvas, {
    penColor: '#111',
    backgroundColor: 'rgba(255,255,255,0)',
    minWidth: 1.2,
    maxWidth: 3.2,
  });
  pad.addEventListener('endStroke', onChange);
  return pad;
}

/** Wraps text to lines no wider than `width` (character by character: Chinese has no spaces). */
function wrap(ctx: CanvasRenderingContext2D, text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const ch of paragraph) {
      if (ctx.measureText(line + ch).width > width && line) {
        lines.push(line);
        line = ch.trim() ? ch : '';
      } else line += ch;
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Renders the consent as the resident saw and signed it into one PNG (1,080 px wide, white): the title, the
 * full consent text, the signature (the pad's canvas, scaled to fit) and a footer line (time, reference).
 * @throws Error when the browser cannot make a 2D canvas or encode a PNG.
 */
export async function renderConsentPng(input: {
  title: string;
  text: string;
  signatureLabel: string;
  signature: HTMLCanvasElement;
  footer: string;
}): Promise<Blob> {
  const W = 1080;
  const M = 64;
  const bodyFont = '36px "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  const titleFont = `bold 48px ${bodyFont.split(' ').slice(1).join(' ')}`;
  const smallFont = `26px ${bodyFont.split(' ').slice(1).join(' ')}`;
  const measure = document.createElement('canvas').getContext('2d');
  if (!measure) throw new Error('no 2D canvas in this browser');
  measure.font = bodyFont;
  const lines = wrap(measure, input.text, W - 2 * M);
  measure.font = smallFont;
  const footerLines = wrap(measure, input.footer, W - 2 * M);
  const sigH = Math.round(((W - 2 * M) * input.signature.height) / Math.max(input.signature.width, 1));
  const H = M + 72 + lines.length * 56 + 40 + 44 + sigH + 24 + footerLines.length * 38 + M;

  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas in this browser');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = '#111';
  ctx.textBaseline = 'top';
  let y = M;
  ctx.font = titleFont;
  ctx.textAlign = 'center';
  ctx.fillText(input.title, W / 2, y);
  ctx.textAlign = 'left';
  y += 72;
  ctx.font = bodyFont;
  for (const line of lines) {
    ctx.fillText(line, M, y);
    y += 56;
  }
  y += 40;
  ctx.fillText(input.signatureLabel, M, y);
  y += 44;
  ctx.strokeStyle = '#888';
  ctx.lineWidth = 2;
  ctx.strokeRect(M, y, W - 2 * M, sigH);
  ctx.drawImage(input.signature, M, y, W - 2 * M, sigH);
  y += sigH + 24;
  ctx.font = smallFont;
  ctx.fillStyle = '#333';
  for (const line of footerLines) {
    ctx.fillText(line, M, y);
    y += 38;
  }
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error('the browser could not encode the PNG'))),
      'image/png',
    ),
  );
}
