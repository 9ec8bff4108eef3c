import { GoliveError } from '../errors.js';
import { AwsCallError } from './ecs-port.js';

/** Runs an AWS call, turning not-found into `notFound()` when given and any other AWS failure into a GoliveError for the user. */
export async function asUserError<T>(fn: () => Promise<T>, notFound?: () => GoliveError): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AwsCallError && err.kind === 'not_found' && notFound) throw notFound();
    if (err instanceof AwsCallError) throw new GoliveError('aws_failed', err.message);
    throw err;
  }
}
