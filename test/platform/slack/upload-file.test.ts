import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackAdapter } from '../../../src/platform/slack/slack-adapter.js';
import { SlackCallError } from '../../../src/platform/slack/slack-port.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';

let fake: FakeSlack;
beforeAll(async () => {
  fake = await startFakeSlack();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const client = () => new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
const report = Buffer.from('# Launch report — GoVisaX\n\nT-0 is 1 Dec 08:00 GMT+5:30 ✅\n', 'utf8');

describe('shareFiles (files.uploadV2 as Slack documents it)', () => {
  it('asks for an upload URL with the name and byte length, POSTs the bytes there, then shares the file in the channel', async () => {
    const slack = createSlackAdapter(client());
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const {
      fileIds: [fileId, pngId],
    } = await slack.shareFiles({
      channel: 'C0OPS',
      threadTs: '1700000000.000100',
      initialComment: 'The launch report',
      files: [
        { filename: 'launch-report.md', title: 'Launch report', content: report },
        { filename: 'timeline.png', title: 'Timeline', content: png, altText: 'timeline' },
      ],
    });
    expect(fake.calls.map((c) => c.method)).toEqual(['files.getUploadURLExternal', 'files.getUploadURLExternal', 'files.completeUploadExternal']);
    const [get, getPng, complete] = fake.calls;
    expect(get!.args).toEqual({ filename: 'launch-report.md', length: String(report.byteLength) });
    expect(getPng!.args).toEqual({ filename: 'timeline.png', length: String(png.byteLength), alt_txt: 'timeline' });
    // `files` travels as JSON text inside the form, like every non-scalar argument; one call shares both.
    expect(complete!.args).toEqual({ files: [{ id: fileId, title: 'Launch report' }, { id: pngId, title: 'Timeline' }], channel_id: 'C0OPS', thread_ts: '1700000000.000100', initial_comment: 'The launch report' });
    expect(fake.files.get(pngId!)!.content!.equals(png)).toBe(true);
    const file = fake.files.get(fileId!)!;
    expect(file.content!.equals(report)).toBe(true);
    expect(file).toMatchObject({ encoding: 'raw', uploadAuthorized: false, completed: true, channel: 'C0OPS', title: 'Launch report' });
    // The upload URL is on another origin than the Web API, as files.slack.com is to slack.com.
    expect(new URL(String(get!.result!.upload_url)).origin).not.toBe(new URL(fake.url).origin);
    const shared = [...fake.messages.values()].find((m) => m.files?.includes(fileId!));
    expect(shared).toMatchObject({ channel: 'C0OPS', text: 'The launch report', thread_ts: '1700000000.000100' });
  });

  it('does not share a file whose bytes the upload URL refused, and says why', async () => {
    const slack = createSlackAdapter(client());
    fake.failNext('files.getUploadURLExternal', { error: 'invalid_arguments' });
    await expect(slack.shareFiles({ channel: 'C0OPS', files: [{ filename: 'a.md', title: 'a', content: report }] })).rejects.toMatchObject({ slackError: 'invalid_arguments' });
    expect(fake.callsTo('files.completeUploadExternal')).toHaveLength(0);
  });

  it('fails when the upload host does not answer 200, before completing', async () => {
    const slack = createSlackAdapter({
      apiCall: async (method: string, args: Record<string, unknown>) => {
        const res = await client().apiCall(method, args);
        // Point the upload at a path the upload host does not serve (404).
        return method === 'files.getUploadURLExternal' ? { ...res, upload_url: String((res as { upload_url?: string }).upload_url).replace('/upload/v1/', '/nowhere/') } : res;
      },
    } as unknown as WebClient);
    const err = await slack.shareFiles({ channel: 'C0OPS', files: [{ filename: 'a.md', title: 'a', content: report }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackCallError);
    expect((err as SlackCallError).slackError).toBe('http_error: the upload URL answered 404');
    expect(fake.callsTo('files.completeUploadExternal')).toHaveLength(0);
  });

  it("behaves like Slack for @slack/web-api's own filesUploadV2 too (multipart, the token sent along)", async () => {
    const res = (await client().filesUploadV2({ channel_id: 'C0OPS', filename: 'timeline.png', title: 'Timeline', file: report })) as unknown as { files: { files: { id: string }[] }[] };
    const id = res.files[0]!.files[0]!.id;
    expect(fake.files.get(id)).toMatchObject({ encoding: 'multipart', completed: true, channel: 'C0OPS' });
    expect(fake.files.get(id)!.content!.equals(report)).toBe(true);
  });

  it('refuses to share a file twice or one never uploaded', async () => {
    const web = client();
    const got = await web.apiCall('files.getUploadURLExternal', { filename: 'x.md', length: 3 });
    await expect(web.apiCall('files.completeUploadExternal', { files: JSON.stringify([{ id: (got as { file_id?: string }).file_id }]) })).rejects.toMatchObject({ data: { error: 'file_uploads_incomplete' } });
  });
});
