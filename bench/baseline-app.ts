// The baseline: a minimal Bolt app with the same receiver as golive (HTTPReceiver,
// same signing secret and endpoint) whose listeners only acknowledge. Figures
// for golive are read against this: what Bolt itself costs on this machine.
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

const receiver = new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '', endpoints: '/slack/events' });
// Bolt looks the token up (auth.test) once before the first listener runs; like golive, it asks the local fake Slack.
const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver,
  logLevel: LogLevel.INFO,
  tokenVerificationEnabled: false,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
});
app.command('/golive', async ({ ack }) => {
  await ack();
});
app.action(/.*/, async ({ ack }) => {
  await ack();
});
await app.start(Number(process.env.PORT));
process.stdout.write('listening\n');
