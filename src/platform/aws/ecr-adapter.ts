import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { awsClientConfig, perRegion, sendAws, type AwsClientOptions } from './aws-client.js';
import type { AwsCall } from './classify-aws-error.js';
import type { EcrPort } from './ecr-port.js';
import { AwsCallError } from './ecs-port.js';

/** How the ECR adapter builds its clients. */
export interface EcrAdapterOptions extends AwsClientOptions {
  clientFor?: (region: string) => ECRClient;
}

/** The EcrPort backed by @aws-sdk/client-ecr (DescribeImages; no image is pulled). */
export function createEcrAdapter(options: EcrAdapterOptions = {}): EcrPort {
  const clientFor = perRegion((region) => options.clientFor?.(region) ?? new ECRClient(awsClientConfig(region, options)));
  return {
    async findImage(region, repository, tag) {
      const call: AwsCall = {
        api: 'ECR',
        iamPrefix: 'ecr',
        operation: 'DescribeImages',
        region,
        subject: `image ${repository}:${tag}`,
        notFound: (code) => (code === 'RepositoryNotFoundException' ? `ECR has no repository "${repository}" in ${region}.` : undefined),
      };
      try {
        const out = await sendAws(call, () => clientFor(region).send(new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] })));
        const image = out.imageDetails?.find((d) => d.imageTags?.includes(tag)) ?? out.imageDetails?.[0];
        if (!image?.imageDigest) return undefined;
        return {
          repository,
          digest: image.imageDigest,
          tags: image.imageTags ?? [],
          ...(image.imagePushedAt ? { pushedAt: image.imagePushedAt.toISOString() } : {}),
          ...(image.imageSizeInBytes !== undefined ? { sizeBytes: image.imageSizeInBytes } : {}),
        };
      } catch (err) {
        // A tag that is not there fails the whole call rather than returning no image.
        if (err instanceof AwsCallError && err.awsCode === 'ImageNotFoundException') return undefined;
        throw err;
      }
    },
  };
}
