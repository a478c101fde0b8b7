/**
 * A city centre's answer to the platform's grade request: the current public credit grade of an
 * applicant domiciled in its city, as its signed attestation (re-graded first if the inputs
 * changed), so the platform can match products with a minimum grade. Asked only by the easy-loan
 * platform, for an enterprise that filed an application there; logged here (`PEER_FETCH`,
 * purpose `loan-application`, the enterprise as subject), granted or not.
 */
import type { AccessLogPort } from '../accesslog/port.ts';
import type { EvaluationService } from '../evaluation/service.ts';
import { CreditError } from '../model/errors.ts';
import type { GradeAnswer } from './ports.ts';
import { LOAN_PURPOSE } from './types.ts';

/** The enterprise is not graded here (not domiciled in this city, or unknown). */
export class NotGradedError extends CreditError {
  static override name = 'NotGradedError';
  override readonly code = 'NOT_GRADED';
}

/** What the grade desk needs. */
export interface GradeDeskComponents {
  evaluation: () => EvaluationService | undefined;
  log: AccessLogPort;
  nodeId: string;
}

/** Serves grades to the platform. */
export interface GradeDesk {
  serve(peer: string, request: { uscc: string; correlationId: string }): Promise<GradeAnswer>;
}

/** Creates the grade desk of a city centre. */
export function createGradeDesk(c: GradeDeskComponents): GradeDesk {
  return {
    async serve(peer, { uscc, correlationId }) {
      const evaluation = c.evaluation();
      const g = evaluation ? await evaluation.reevaluate(uscc) : undefined;
      await c.log.append({
        time: new Date().toISOString(),
        actor: { node: c.nodeId, principal: `node:${peer}`, role: 'easy-loan' },
        action: 'PEER_FETCH',
        decision: g ? 'ALLOW' : 'DENY',
        ...(g ? {} : { reason: 'NOT_GRADED' }),
        purpose: LOAN_PURPOSE,
        scopes: ['evaluation'],
        subject: uscc,
        correlationId,
      });
      if (!g || !evaluation) throw new NotGradedError('this centre does not grade this enterprise');
      return { attestation: evaluation.evaluator.issue(g), industry: g.industry };
    },
  };
}
