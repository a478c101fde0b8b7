/**
 * Recognising another city's attestation (credit.md §3.3): it counts here only if it verifies
 * against its evaluator's roster key, an agreement between the two cities is in force, the
 * agreement covers its scheme and version, and it is fresh (evaluated within the agreement's
 * freshness, 12 months by default, and not past its own validity). The grade is then mapped onto
 * this city's scale as the agreement says, at face value (no down-weighting of another city's
 * grade, 国办发〔2026〕8号). A serious-dishonesty listing this city holds about the enterprise caps
 * it at D here (`CAPPED_LOCALLY`). Otherwise the reason says why it is not recognised.
 *
 * Checks run in this order: signature (`BAD_SIGNATURE`, which also covers a malformed or tampered
 * document and an evaluator that is not its city's centre on the roster), agreement
 * (`NO_AGREEMENT`, `AGREEMENT_EXPIRED`), scheme (`UNKNOWN_SCHEME`), freshness (`STALE`), local cap.
 */
import type { CityId } from '../model/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import type { AgreementBook } from './agreements.ts';
import { type AttestationBody, attestationSignatureValid, parseAttestation } from './attestation.ts';
import { activeSeriousDishonesty } from './indicators.ts';
import type { RecognitionOutcome } from './store.ts';
import type { CentreInfo } from './types.ts';

const DAY = 86_400_000;
/** Clock skew tolerated on a foreign `evaluatedAt`. */
export const MAX_SKEW_MS = 5 * 60_000;

/** What recognition needs. */
export interface RecognitionComponents {
  profiles: ProfileStore;
  book: AgreementBook;
  city: CityId;
  centres: () => CentreInfo[];
}

/** The parsed, verified attestation behind an outcome (when it verified). */
export interface Recognised {
  outcome: RecognitionOutcome;
  body?: AttestationBody;
}

/** Creates the recognition of foreign attestations. */
export function createRecognition(c: RecognitionComponents) {
  return {
    /**
     * Decides how this city recognises an attestation at `now` (ms). Never throws on bad input:
     * a malformed, tampered or forged attestation is `BAD_SIGNATURE` with a detail.
     */
    async recognise(input: unknown, now: number): Promise<Recognised> {
      let body: AttestationBody;
      try {
        ({ body } = parseAttestation(input));
      } catch (err) {
        return { outcome: { recognised: false, reason: 'BAD_SIGNATURE', detail: (err as Error).message } };
      }
      const about = {
        subject: body.subject,
        foreignGrade: body.grade,
        scheme: body.scheme,
        evaluator: body.evaluator,
        evaluatedAt: body.evaluatedAt,
        validUntil: body.validUntil,
        seq: body.seq,
      };
      const refuse = (
        reason: RecognitionOutcome['reason'],
        detail: string,
        extra: Partial<RecognitionOutcome> = {},
      ) => ({
        outcome: { recognised: false, reason, detail, ...about, ...extra },
        body,
      });
      const evaluator = c.centres().find((x) => x.nodeId === body.evaluator.node);
      if (!evaluator || evaluator.city !== body.evaluator.city)
        return refuse(
          'BAD_SIGNATURE',
          `${body.evaluator.node} is not the centre of ${body.evaluator.city} on the roster`,
        );
      if (!attestationSignatureValid(input as never, evaluator.signingKey))
        return refuse('BAD_SIGNATURE', `the signature does not verify with the key of ${body.evaluator.node}`);

      let mapped: string | undefined;
      let agreementId: string | undefined;
      let freshnessDays = 0;
      if (body.evaluator.city === c.city) {
        // This city's own grade: no agreement needed.
        mapped = body.grade;
        freshnessDays = Math.ceil((Date.parse(body.validUntil) - Date.parse(body.evaluatedAt)) / DAY);
      } else {
        const all = await c.book.between(c.city, body.evaluator.city);
        if (all.length === 0)
          return refuse('NO_AGREEMENT', `no agreement between ${c.city} and ${body.evaluator.city}`);
        const live = all.filter((a) => c.book.status(a, now) === 'IN_FORCE');
        if (live.length === 0)
          return refuse('AGREEMENT_EXPIRED', `no agreement between ${c.city} and ${body.evaluator.city} is in force`);
        for (const a of live) {
          const rule = a.agreement.body.recognise.find(
            (r) =>
              r.from === body.evaluator.city &&
              r.to === c.city &&
              r.scheme === body.scheme.id &&
              r.versions.includes(body.scheme.version),
          );
          if (rule) {
            mapped = rule.grades[body.grade];
            agreementId = a.id;
            freshnessDays = a.agreement.body.freshnessDays;
            break;
          }
        }
        if (!mapped)
          return refuse(
            'UNKNOWN_SCHEME',
            `no agreement in force recognises ${body.scheme.id}@${body.scheme.version} of ${body.evaluator.city}`,
          );
      }
      const evaluatedAt = Date.parse(body.evaluatedAt);
      const via = agreementId ? { agreementId } : {};
      if (evaluatedAt > now + MAX_SKEW_MS) return refuse('STALE', 'evaluated in the future', via);
      if (now > evaluatedAt + freshnessDays * DAY)
        return refuse('STALE', `evaluated more than ${freshnessDays} days ago`, via);
      if (now >= Date.parse(body.validUntil)) return refuse('STALE', 'past its validUntil', via);

      const today = new Date(now).toISOString().slice(0, 10);
      const listings = activeSeriousDishonesty(await c.profiles.getFacts(body.subject, ['seriousDishonesty']), today);
      if (listings.length > 0)
        return refuse('CAPPED_LOCALLY', 'this city holds an active serious-dishonesty listing of the enterprise', {
          ...via,
          localGrade: 'D',
        });
      return {
        outcome: { recognised: true, localGrade: mapped as RecognitionOutcome['localGrade'], ...via, ...about },
        body,
      };
    },
  };
}

/** The recognition of foreign attestations. */
export type Recognition = ReturnType<typeof createRecognition>;
