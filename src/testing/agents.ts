/**
 * A 村级代办员 for tests: a staff account of `hallCode` holding `village_agent` over that hall for a year
 * (granted as the CLI grants, audited with `reason`). Returns the account.
 */
import type { IdentityService } from '../server/modules/identity/service.ts';

export async function createVillageAgent(
  identity: IdentityService,
  agent: { name: string; username: string; password: string; hallCode: string; reason: string },
) {
  const account = await identity.createStaff({
    name: agent.name,
    username: agent.username,
    password: agent.password,
    hallCode: agent.hallCode,
  });
  await identity.grants.grantFromCli(
    {
      accountId: account.id,
      role: 'village_agent',
      scope: { kind: 'hall', value: agent.hallCode },
      itemCodes: null,
      validUntil: new Date(Date.now() + 365 * 86_400_000),
      reason: agent.reason,
    },
    'test',
  );
  return account;
}
