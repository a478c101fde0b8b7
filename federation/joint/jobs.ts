/**
 * Joint-query jobs: a run over thousands of enterprises takes seconds to minutes, so the API starts
 * it as a job and the officer's screen polls its progress. Jobs live in memory on the bank's node,
 * are visible only to officers of that bank, and are forgotten an hour after they end.
 */
import { randomUUID } from 'node:crypto';
import { NotFoundError, type Principal } from '../../authz/index.ts';
import type { JointRun } from './protocol.ts';

/** A job as the API shows it. */
export interface JointJob {
  id: string;
  kind: string;
  bank: string;
  startedBy: string;
  status: 'RUNNING' | 'DONE' | 'FAILED';
  done: number;
  total: number;
  startedAt: string;
  endedAt?: string;
  error?: string;
  result?: JointRun;
}

/** How long a finished job is kept. */
export const JOB_RETENTION_MS = 60 * 60_000;
/** Most jobs kept per node. */
export const MAX_JOBS = 1000;

/** Creates the job registry of a node. */
export function createJointJobs() {
  const jobs = new Map<string, JointJob>();
  const prune = () => {
    const now = Date.now();
    for (const [id, j] of jobs) if (j.endedAt && now - Date.parse(j.endedAt) > JOB_RETENTION_MS) jobs.delete(id);
    while (jobs.size >= MAX_JOBS) {
      const oldest = [...jobs.values()].find((j) => j.status !== 'RUNNING');
      if (!oldest) break;
      jobs.delete(oldest.id);
    }
  };
  return {
    /** Starts `work` as a job; resolves with the job once started (and, with `wait`, once ended). */
    async start(
      principal: Principal,
      kind: string,
      total: number,
      work: (progress: (done: number, total: number) => void) => Promise<JointRun>,
      wait: boolean,
    ): Promise<JointJob> {
      prune();
      const job: JointJob = {
        id: `job-${randomUUID()}`,
        kind,
        bank: principal.bank ?? '',
        startedBy: principal.sub,
        status: 'RUNNING',
        done: 0,
        total,
        startedAt: new Date().toISOString(),
      };
      jobs.set(job.id, job);
      const running = work((done, all) => {
        job.done = done;
        job.total = all;
      }).then(
        (result) => {
          job.result = result;
          job.status = 'DONE';
          job.done = job.total;
          job.endedAt = new Date().toISOString();
        },
        (err: Error & { code?: string }) => {
          job.status = 'FAILED';
          job.error = err.code ?? 'ERROR';
          job.endedAt = new Date().toISOString();
        },
      );
      if (wait) await running;
      return job;
    },
    /** A job of the caller's bank. @throws NotFoundError otherwise */
    get(principal: Principal, id: string): JointJob {
      const job = jobs.get(id);
      if (!job || principal.role !== 'bank-officer' || job.bank !== principal.bank)
        throw new NotFoundError('no such job');
      return job;
    },
  };
}

/** The job registry of a node. */
export type JointJobs = ReturnType<typeof createJointJobs>;
