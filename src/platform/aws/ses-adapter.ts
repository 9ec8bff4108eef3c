import { GetAccountCommand, SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { awsClientConfig, perRegion, sendAws, type AwsClientOptions } from './aws-client.js';
import type { SesPort } from './ses-port.js';

/** How the SES adapter builds its clients. */
export interface SesAdapterOptions extends AwsClientOptions {
  clientFor?: (region: string) => SESv2Client;
}

/** The SesPort backed by @aws-sdk/client-sesv2. */
export function createSesAdapter(options: SesAdapterOptions = {}): SesPort {
  const clientFor = perRegion((region) => options.clientFor?.(region) ?? new SESv2Client(awsClientConfig(region, options)));
  return {
    async getAccount(region) {
      const out = await sendAws({ api: 'SES', iamPrefix: 'ses', operation: 'GetAccount', region, subject: 'the account' }, () => clientFor(region).send(new GetAccountCommand({})));
      return {
        productionAccess: out.ProductionAccessEnabled === true,
        sendingEnabled: out.SendingEnabled === true,
        ...(out.EnforcementStatus ? { enforcementStatus: out.EnforcementStatus } : {}),
        ...(out.SendQuota?.Max24HourSend !== undefined ? { max24HourSend: out.SendQuota.Max24HourSend } : {}),
        ...(out.Details?.ReviewDetails?.Status ? { reviewStatus: out.Details.ReviewDetails.Status } : {}),
      };
    },
    async sendEmail(region, m) {
      const out = await sendAws({ api: 'SES', iamPrefix: 'ses', operation: 'SendEmail', region, subject: `email to ${m.to.length} recipient${m.to.length === 1 ? '' : 's'}` }, () =>
        clientFor(region).send(
          new SendEmailCommand({
            FromEmailAddress: m.from,
            Destination: { ToAddresses: m.to },
            Content: { Simple: { Subject: { Data: m.subject, Charset: 'UTF-8' }, Body: { Text: { Data: m.text, Charset: 'UTF-8' } } } },
          }),
        ),
      );
      return { messageId: out.MessageId ?? '' };
    },
  };
}
