/**
 * The five stories `npm start` tells against the real nodes of the demo federation, in order, and
 * the runner `credit-node demo` and the scenario tests share. A story stops at its first failed
 * step (StoryError naming it); a sub-step whose capability is missing is reported as pending, by
 * name, never hidden and never faked.
 */
import { auditStory } from './audit.ts';
import { authorisationStory } from './authorisation.ts';
import { bankLoanStory } from './bank-loan.ts';
import { checkObjectRepairStory } from './check-object-repair.ts';
import { type Story, type StoryOutcome, storyContext } from './kit.ts';
import { recognitionStory } from './recognition.ts';

export { StoryError } from './kit.ts';

/** Every story, in the order `npm start` tells them. */
export const STORIES: readonly Story[] = [
  bankLoanStory,
  recognitionStory,
  authorisationStory,
  auditStory,
  checkObjectRepairStory,
];

/** The outcome of one story. */
export interface StoryReport extends StoryOutcome {
  name: string;
  title: string;
  status: 'passed' | 'failed';
  seconds: number;
  error?: string;
}

/** Options of a run. */
export interface RunStoriesOptions {
  /** Only these stories (by name), in the registry's order. */
  only?: readonly string[];
  /** Narration, one line at a time. */
  say?: (line: string) => void;
  /** Go on with the next story after a failure (default: stop). */
  keepGoing?: boolean;
}

/** Names of the stories, for usage messages. */
export const storyNames = () => STORIES.map((s) => s.name);

/**
 * Runs the stories against the federation running in `dir`.
 * @throws TypeError for an unknown story name
 */
export async function runStories(dir: string, options: RunStoriesOptions = {}): Promise<StoryReport[]> {
  const unknown = (options.only ?? []).filter((n) => !storyNames().includes(n));
  if (unknown.length > 0)
    throw new TypeError(`unknown story ${unknown.join(', ')} (stories: ${storyNames().join(', ')})`);
  const say = options.say ?? (() => undefined);
  const ctx = await storyContext(dir, say);
  const reports: StoryReport[] = [];
  const chosen = STORIES.filter((s) => !options.only?.length || options.only.includes(s.name));
  for (const [i, story] of chosen.entries()) {
    say(`\n━━ Story ${STORIES.indexOf(story) + 1}/${STORIES.length}: ${story.title} (${story.name}) ━━`);
    const started = performance.now();
    try {
      const outcome = await story.run(ctx);
      const seconds = +((performance.now() - started) / 1000).toFixed(1);
      reports.push({ name: story.name, title: story.title, status: 'passed', seconds, ...outcome });
      for (const p of outcome.pending) say(`   PENDING ${p.step}: ${p.why}`);
      say(
        `   ✔ ${story.name} passed in ${seconds} s${outcome.pending.length ? ` (${outcome.pending.length} step pending)` : ''}.`,
      );
    } catch (err) {
      const seconds = +((performance.now() - started) / 1000).toFixed(1);
      const error = (err as Error).message;
      reports.push({ name: story.name, title: story.title, status: 'failed', seconds, error, pending: [], facts: {} });
      say(`   ✘ ${story.name} failed: ${error}`);
      if (!options.keepGoing && i < chosen.length - 1) break;
    }
  }
  return reports;
}

/** The closing line: `all stories passed` (pending steps named), or which failed. */
export function summary(reports: readonly StoryReport[]): { ok: boolean; line: string } {
  const failed = reports.filter((r) => r.status === 'failed');
  const pending = reports.flatMap((r) => r.pending.map((p) => `${r.name}/${p.step}`));
  if (failed.length > 0) return { ok: false, line: `stories failed: ${failed.map((r) => r.name).join(', ')}` };
  return {
    ok: true,
    line: `all stories passed${pending.length ? ` (pending: ${pending.join(', ')})` : ''}`,
  };
}
