/** The profile sections of the one-table model (model/types.ts, bundled as is) and their GraphQL selections. */
import { SECTIONS } from '../../model/types.ts';

export { SECTIONS };

/** A section's GraphQL selection: the registration record, or the facts of the section. */
export function sectionSelection(section: string): string {
  if (!(SECTIONS as readonly string[]).includes(section)) throw new TypeError(`unknown section ${section}`);
  return section === 'registration'
    ? 'registration { uscc name status orgType domicileRegion establishedOn registeredCapitalWan industryCode originNode updatedAt }'
    : `${section} { id subtype category polarity severity status decisionDate sourceUnit publicUntil legalDocumentRef originNode }`;
}
