// The baseline: a minimal Bolt app with the same receiver as golive (HTTPReceiver,
// same signing secret and endpoint) whose listeners only acknowledge. Figures
// for golive are read against this: what Bolt itself costs on this machine.
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

const receiver = new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '', endpoints: '/slack/events' });
// Set up like golive: the token is looked up (auth.test, at the local fake Slack) once, in init(), not per request.
const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver,
  logLevel: LogLevel.INFO,
  deferInitialization: true,
  convoStore: false,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
});
app.command('/golive', async ({ ack }) => {
  await ack();
});
app.action(/.*/, async ({ ack }) => {
  await ack();
});
await app.init();
await app.start(Number(process.env.PORT));
process.stdout.write('listening\n');
