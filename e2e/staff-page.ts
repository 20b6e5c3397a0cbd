/**
 * What the staff-workbench stories share: the desktop context, reaching Element Plus inputs and selects by
 * test id, and signing in (password, then the TOTP step for administrators).
 */
import { generate } from 'otplib';
import type { Locator, Page } from 'playwright-core';

/** A desktop browser context in Chinese. */
export const DESKTOP = {
  viewport: { width: 1366, height: 900 },
  isMobile: false,
  deviceScaleFactor: 1,
  locale: 'zh-CN',
};

/** The input or textarea with test id `id`, or inside the element that carries it (Element Plus wrappers). */
export const inp = (scope: Page | Locator, id: string) =>
  scope
    .locator(
      `input[data-testid="${id}"], textarea[data-testid="${id}"], [data-testid="${id}"] input, [data-testid="${id}"] textarea`,
    )
    .first();

/** Chooses the option of an Element Plus select whose label contains `text`. */
export async function choose(page: Page, select: Locator, text: string): Promise<void> {
  await select.click();
  await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click();
  await page.keyboard.press('Escape').catch(() => {});
}

/**
 * Signs a staff member in at `${baseUrl}/staff/`: username + password, then — when `totpSecret` is given —
 * the 6-digit TOTP step; resolves once the top bar shows `name` (or at once after the click without one).
 */
export async function signInStaff(
  page: Page,
  baseUrl: string,
  account: { username: string; password: string; totpSecret?: string | null | undefined; name?: string },
): Promise<void> {
  await page.goto(`${baseUrl}/staff/`);
  await inp(page, 'username').fill(account.username);
  await inp(page, 'password').fill(account.password);
  await page.getByTestId('sign-in').click();
  if (account.totpSecret) {
    await page.getByTestId('totp').waitFor();
    await inp(page, 'totp').fill(await generate({ secret: account.totpSecret }));
    await page.getByTestId('sign-in').click();
  }
  if (account.name)
    await page.getByTestId('who').filter({ hasText: account.name }).waitFor({ timeout: 15_000 });
}
