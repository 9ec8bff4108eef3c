import { afterEach, describe, expect, it } from 'vitest';
import { AwsCallError, type EcsPort } from '../../../src/platform/aws/ecs-port.js';
import { writeDeployRunbook } from '../../support/deploy-fixture.js';
import { golive } from '../../support/golive-client.js';
import { startTestApp, type TestApp } from '../../support/start-app.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** An ECS that takes `ms` to fail every call, as one does while AWS retries a call that times out. */
function slowEcs(ms: number): EcsPort {
  const fail = () => new Promise<never>((_, reject) => setTimeout(() => reject(new AwsCallError('DescribeServices', 'timeout', 'AWS ECS did not answer DescribeServices in time (ap-south-1); try again.')), ms));
  return { describeService: fail, describeTaskDefinition: fail, registerWithImage: fail, updateService: fail, listRevisions: fail };
}

describe('the /golive handler', () => {
  it('tells the person it is still working when AWS is slow, then gives the answer', async () => {
    t = await startTestApp({ runbook: writeDeployRunbook({ smokeUrl: 'http://127.0.0.1:9/health' }), appOptions: { ecs: slowEcs(600), slowReplyMs: 150 } });
    const { responseId } = await golive(t, 'rollback api', 'U0DEVOPS');
    const error = await t.slack.waitForResponse((r) => r.id === responseId && String(r.body.text).startsWith(':warning:'), 5000);
    const replies = t.slack.responses.filter((r) => r.id === responseId).map((r) => r.body.text);
    expect(replies).toEqual(['⏳ Still working on it: AWS or Slack is slow to answer right now. The result will follow, here or in the channel.', error.body.text]);
    expect(error.body.text).toBe(':warning: AWS ECS did not answer DescribeServices in time (ap-south-1); try again.');
  });

  it('says nothing extra when the answer comes in time', async () => {
    t = await startTestApp({ appOptions: { slowReplyMs: 150 } });
    const { responseId } = await golive(t, 'help', 'U0DEVOPS');
    await t.slack.waitForResponse((r) => r.id === responseId);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.slack.responses.filter((r) => r.id === responseId)).toHaveLength(1);
  });

  it('does not ask Slack who the bot is on every request (auth.test only at start-up)', async () => {
    t = await startTestApp();
    const atStart = t.slack.callsTo('auth.test').length;
    for (const text of ['help', 'history', 'status']) {
      const { responseId, status } = await golive(t, text, 'U0DEVOPS');
      expect(status).toBe(200);
      if (text !== 'status') await t.slack.waitForResponse((r) => r.id === responseId);
    }
    await t.slack.waitForCall('chat.postMessage');
    expect(t.slack.callsTo('auth.test')).toHaveLength(atStart);
  });
});
