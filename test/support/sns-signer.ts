import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { snsStringToSign, type SnsMessage } from '../../src/alarms/verify-sns.js';

/* Signs SNS messages with a throwaway key and self-signed certificate, for tests that need messages the fixtures do not have. */

export interface TestSigner {
  key: KeyObject;
  pem: string;
}

const signers = new Map<string, TestSigner>();

/** An RSA key and a self-signed X.509 certificate (subject CN `cn`, no SAN) for it; one per CN per run. */
export function testSigner(cn = 'sns.amazonaws.com'): TestSigner {
  const cached = signers.get(cn);
  if (cached) return cached;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sha256WithRsa = seq(tlv(0x06, Buffer.from('2a864886f70d01010b', 'hex')), Buffer.from([0x05, 0x00]));
  const name = seq(tlv(0x31, seq(tlv(0x06, Buffer.from('550403', 'hex')), tlv(0x0c, Buffer.from(cn)))));
  const validity = seq(tlv(0x17, Buffer.from('200101000000Z')), tlv(0x17, Buffer.from('491231235959Z')));
  const tbs = seq(tlv(0xa0, tlv(0x02, Buffer.from([2]))), tlv(0x02, Buffer.from([1])), sha256WithRsa, name, validity, name, publicKey.export({ type: 'spki', format: 'der' }));
  const certificate = seq(tbs, sha256WithRsa, tlv(0x03, Buffer.concat([Buffer.from([0]), sign('sha256', tbs, privateKey)])));
  const lines = certificate.toString('base64').match(/.{1,64}/g) ?? [];
  const signer = { key: privateKey, pem: `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n` };
  signers.set(cn, signer);
  return signer;
}

/** A DER tag-length-value. */
function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

function seq(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

/** An SNS message (a Notification unless `fields` says otherwise) signed with `key` the way SNS signs. */
export function signed(key: KeyObject, fields: Partial<Record<keyof SnsMessage, string>>): SnsMessage {
  const message = {
    Type: 'Notification',
    MessageId: '6f2c3c2e-0000-4000-8000-000000000001',
    TopicArn: 'arn:aws:sns:us-east-2:123456789012:golive-alarms',
    Message: 'Hello world',
    Timestamp: '2026-01-01T00:00:00.000Z',
    SignatureVersion: '2',
    Signature: '',
    SigningCertURL: 'https://sns.us-east-2.amazonaws.com/SimpleNotificationService-test.pem',
    ...fields,
  } as SnsMessage;
  const algorithm = message.SignatureVersion === '1' ? 'sha1' : 'sha256';
  return { ...message, Signature: sign(algorithm, Buffer.from(snsStringToSign(message)), key).toString('base64') };
}
