/** One image in an ECR repository. */
export interface EcrImage {
  repository: string;
  digest: string;
  tags: string[];
  pushedAt?: string;
  sizeBytes?: number;
}

/** The ECR reads evidence checks need. */
export interface EcrPort {
  /** The image carrying `tag`, or undefined; an AwsCallError of kind not_found when the repository does not exist. */
  findImage(region: string, repository: string, tag: string): Promise<EcrImage | undefined>;
}
