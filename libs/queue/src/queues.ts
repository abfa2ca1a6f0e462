/**
 * Queue and job names: stable strings shared by api (producer) and worker (consumer).
 * Changing one strands the jobs already waiting under the old name.
 */
export const QueueName = {
  /** Platform self-checks; the worker answers `ping` so readiness can be shown end to end. */
  System: 'system',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const SystemJob = {
  Ping: 'ping',
} as const;

/** Payload and result of every job, by queue and job name. */
export interface JobTypes {
  [QueueName.System]: {
    [SystemJob.Ping]: { data: { sentAt: string }; result: { pong: true; sentAt: string; workerPid: number } };
  };
}

export type JobName<Q extends QueueName> = keyof JobTypes[Q] & string;
export type JobData<Q extends QueueName, J extends JobName<Q>> = JobTypes[Q][J] extends { data: infer D } ? D : never;
export type JobResult<Q extends QueueName, J extends JobName<Q>> = JobTypes[Q][J] extends { result: infer R }
  ? R
  : never;
