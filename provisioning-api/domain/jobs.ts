/** Jobs as the API shows them: what was asked, and where it stands. */
export const JOB_KINDS = ['sim.suspend', 'sim.resume', 'sim.terminate', 'sim.allocate', 'sim-import.load', 'sim.rotate-keyset'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export function isFinalJobState(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed';
}
