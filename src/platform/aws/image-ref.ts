import { AwsCallError } from './ecs-port.js';

/** What ECR and Docker accept as an image tag. */
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Replaces the tag or digest of an image reference with `tag` (a digest such as
 * `sha256:…` is attached with `@`). Registry ports are not mistaken for tags:
 * `localhost:5000/app` + `v2` is `localhost:5000/app:v2`.
 */
export function imageWithTag(currentImage: string, tag: string): string {
  const isDigest = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/.test(tag);
  if (!isDigest && !IMAGE_TAG.test(tag)) {
    throw new AwsCallError('RegisterTaskDefinition', 'invalid', `"${tag}" is not a valid image tag (letters, digits, "_", "." and "-", at most 128).`);
  }
  let repository = currentImage.trim();
  const at = repository.indexOf('@');
  if (at >= 0) repository = repository.slice(0, at);
  const lastSlash = repository.lastIndexOf('/');
  const colon = repository.indexOf(':', lastSlash + 1);
  if (colon >= 0) repository = repository.slice(0, colon);
  if (!repository) {
    throw new AwsCallError('RegisterTaskDefinition', 'invalid', `"${currentImage}" is not an image reference golive can retag.`);
  }
  return `${repository}${isDigest ? '@' : ':'}${tag}`;
}
