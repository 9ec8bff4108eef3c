/** What golive needs to know about an ECS service. */
export interface EcsServiceState {
  cluster: string;
  service: string;
  /** The task definition ARN the service is set to run. */
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  deployments: EcsDeployment[];
  /** Recent service events, newest first (messages such as "has reached a steady state"). */
  events: { at: string; message: string }[];
}

/** One entry of the service's `deployments`. */
export interface EcsDeployment {
  id: string;
  status: string; // PRIMARY | ACTIVE | INACTIVE
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  /** IN_PROGRESS | COMPLETED | FAILED, when ECS reports it. */
  rolloutState?: string;
  rolloutStateReason?: string;
}

/** A task definition revision, reduced to what deploys need. */
export interface TaskDefinitionRevision {
  arn: string;
  family: string;
  revision: number;
  status: string; // ACTIVE | INACTIVE | DELETE_IN_PROGRESS
  /** Image of each container, by container name. */
  images: Record<string, string>;
}

/** Where a service lives. */
export interface ServiceRef {
  cluster: string;
  service: string;
  region: string;
}

/**
 * The ECS operations deploys and rollbacks use. The real adapter wraps
 * @aws-sdk/client-ecs; failures are thrown as AwsCallError.
 */
export interface EcsPort {
  describeService(ref: ServiceRef): Promise<EcsServiceState>;
  describeTaskDefinition(region: string, taskDefinition: string): Promise<TaskDefinitionRevision>;
  /**
   * Registers a new revision copied from `from` with only `container`'s image
   * replaced (read-only fields AWS returns are stripped). Returns the new revision.
   */
  registerWithImage(region: string, from: string, container: string, image: string): Promise<TaskDefinitionRevision>;
  /**
   * Points the service at a task definition (UpdateService), and sets its
   * desired task count when given (a canary service goes 0 → 1 → 0); returns
   * the state ECS reports right after.
   */
  updateService(ref: ServiceRef, taskDefinition: string, desiredCount?: number): Promise<EcsServiceState>;
  /** ACTIVE revisions of a family, newest (highest revision) first, sorted here because some ECS implementations ignore `sort`. */
  listRevisions(region: string, family: string): Promise<TaskDefinitionRevision[]>;
}

/** Why an AWS call failed, in words an operator can act on. */
export type AwsErrorKind = 'access_denied' | 'not_found' | 'throttled' | 'invalid' | 'network' | 'timeout' | 'unknown';

/** An AWS failure, classified; `message` is safe to show in Slack. */
export class AwsCallError extends Error {
  constructor(
    readonly operation: string,
    readonly kind: AwsErrorKind,
    message: string,
    readonly awsCode?: string,
  ) {
    super(message);
    this.name = 'AwsCallError';
  }
}
