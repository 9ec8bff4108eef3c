import type { Verify } from '../platform/runbook/schema.js';
import { fail, pass, type CheckFn } from './evidence.js';

type SesCheck = Extract<Verify, { type: 'ses_production' }>;

/** SES in the region has production access (out of the sandbox) and may send. */
export const checkEmailAccess: CheckFn<SesCheck> = async (v, { session }) => {
  const a = await session.sesAccount(v.region);
  const quota = a.max24HourSend !== undefined ? `, quota ${a.max24HourSend.toLocaleString('en-GB')} emails / 24 h` : '';
  if (!a.productionAccess) {
    const review = a.reviewStatus ? ` (production access request: ${a.reviewStatus})` : ' (no production access yet)';
    return fail(`SES in ${v.region} is still in the sandbox: it mails only verified addresses${review}`);
  }
  if (!a.sendingEnabled) return fail(`SES in ${v.region} has production access but sending is paused${a.enforcementStatus ? ` (${a.enforcementStatus})` : ''}`);
  return pass(`SES production access is enabled in ${v.region}${quota}`);
};
