/**
 * The QR code on every paper notice points to `<PUBLIC_BASE_URL>/track/<case number>`; the server answers
 * that path with index.html. The app routes by hash, so before the router reads the address this turns
 * `/track/<number>` into `/#/track/<number>` (same page, no reload, no extra history entry). Imported
 * first by main.ts, before the router is created.
 */
const TRACK_PATH = /^\/track\/([0-9A-Za-z-]{1,40})\/?$/;

/** The hash route for a `/track/<number>` path, or null for any other path. */
export function trackHashFor(pathname: string): string | null {
  const m = TRACK_PATH.exec(pathname);
  return m ? `#/track/${m[1]}` : null;
}

const hash = typeof location !== 'undefined' ? trackHashFor(location.pathname) : null;
if (hash) history.replaceState(history.state, '', `/${location.search}${hash}`);
