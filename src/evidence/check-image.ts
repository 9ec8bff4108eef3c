import type { Verify } from '../platform/runbook/schema.js';
import { formatTime } from '../platform/format-time.js';
import { fail, pass, type CheckFn } from './evidence.js';

type ImageCheck = Extract<Verify, { type: 'ecr_image' }>;

/** The ECR repository has an image with the tag. */
export const checkImage: CheckFn<ImageCheck> = async (v, { session, timezone }) => {
  const image = await session.image(v.region, v.repository, v.tag);
  if (!image) return fail(`ECR repository ${v.repository} has no image tagged ${v.tag} in ${v.region}`);
  const digest = image.digest.replace(/^(sha256:.{12}).*$/, '$1…');
  return pass(`image ${v.repository}:${v.tag} is in ECR (${v.region})${image.pushedAt ? `, pushed ${formatTime(image.pushedAt, timezone)}` : ''}, ${digest}`);
};
