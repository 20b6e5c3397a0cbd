/**
 * A resident for HTTP tests: registers with the development SMS adapter's code (which signs her in) and
 * returns the cookie + X-CSRF-Token headers of that session. `remoteAddress` keeps sign-up limits per
 * address out of the way; one code per phone per minute (advance the server clock between two phones
 * if the test's clock is fixed).
 */
import type { RunningServer } from '../server/main.ts';
import { sessionCookieName } from '../server/modules/identity/plugin.ts';
import type { DevSmsChannel } from '../server/modules/notifications/channels.ts';

export async function signedUpResident(
  server: RunningServer,
  person: { name: string; idNumber: string; phone: string },
  remoteAddress: string,
): Promise<Record<string, string>> {
  const post = (url: string, payload: object) =>
    server.app.inject({ method: 'POST', url, payload, remoteAddress });
  const asked = await post('/api/v1/auth/sms-code', { phone: person.phone, purpose: 'register' });
  if (asked.statusCode !== 200) throw new Error(`sms-code: ${asked.statusCode} ${asked.body}`);
  const sms = server.services.notifications.channel('sms') as DevSmsChannel;
  const text = [...sms.sent].reverse().find((m) => m.to === person.phone)?.text ?? '';
  const code = /(\d{6})/.exec(text)?.[1];
  if (!code) throw new Error(`no SMS code for ${person.phone}`);
  const grant = await post('/api/v1/auth/residents', { ...person, code });
  if (grant.statusCode !== 201) throw new Error(`register: ${grant.statusCode} ${grant.body}`);
  const c = grant.cookies.find((c) => c.name === sessionCookieName(server.services.authConfig.cookieSecure));
  if (!c) throw new Error('no session cookie');
  return { cookie: `${c.name}=${c.value}`, 'x-csrf-token': grant.json().csrfToken as string };
}
