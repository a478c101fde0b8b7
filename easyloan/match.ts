/**
 * Matching (撮合): which published products an application is eligible for, as a pure function of
 * the products, the application and the grade. A product matches when it is active, offers the
 * amount and the term, admits the enterprise's city and industry, and its minimum grade is met
 * by the grade of the enterprise's home city centre (a product with a minimum grade does not match
 * an enterprise without one). One match per bank: its eligible product with the lowest rate.
 */
import { GRADES, type Grade } from '../evaluation/scheme.ts';
import { NoMatchingProductError, NotEligibleError } from './errors.ts';
import type { ApplicationInput, PlatformEnterprise, Product } from './types.ts';

/** Why a product does not admit an application. */
export type Ineligibility = 'AMOUNT' | 'TERM' | 'CITY' | 'INDUSTRY' | 'GRADE' | 'GRADE_UNKNOWN';

/** Why `product` does not admit the application, or `undefined` when it does. */
export function ineligibility(
  product: Product,
  app: ApplicationInput & Pick<PlatformEnterprise, 'city' | 'industry'>,
  grade: Grade | undefined,
): Ineligibility | undefined {
  if (app.amountYuan < product.minAmountYuan || app.amountYuan > product.maxAmountYuan) return 'AMOUNT';
  if (app.termMonths < product.minTermMonths || app.termMonths > product.maxTermMonths) return 'TERM';
  if (product.cities.length > 0 && !(product.cities as string[]).includes(app.city)) return 'CITY';
  if (product.industries.length > 0 && !product.industries.some((i) => app.industry.startsWith(i))) return 'INDUSTRY';
  if (product.minGrade) {
    if (!grade) return 'GRADE_UNKNOWN';
    if (GRADES.indexOf(grade) > GRADES.indexOf(product.minGrade)) return 'GRADE';
  }
  return undefined;
}

/**
 * The products an application matches, one per bank (lowest minimum rate, then id).
 * @throws NoMatchingProductError when no active product offers the amount and term;
 *   NotEligibleError when some do but none admits the enterprise
 */
export function matchProducts(
  products: readonly Product[],
  app: ApplicationInput & Pick<PlatformEnterprise, 'city' | 'industry'>,
  grade: Grade | undefined,
): Product[] {
  const active = products.filter((p) => p.status === 'ACTIVE');
  const offering = active.filter((p) => {
    const why = ineligibility(p, app, grade);
    return why !== 'AMOUNT' && why !== 'TERM';
  });
  if (offering.length === 0)
    throw new NoMatchingProductError(
      `no product offers ${app.amountYuan} yuan over ${app.termMonths} months (${active.length} products published)`,
    );
  const eligible = offering.filter((p) => ineligibility(p, app, grade) === undefined);
  if (eligible.length === 0) {
    const reasons = [...new Set(offering.map((p) => ineligibility(p, app, grade)))].sort();
    throw new NotEligibleError(
      `${offering.length} products offer this amount and term, none admits this enterprise (${reasons.join(', ')})`,
    );
  }
  const best = new Map<string, Product>();
  for (const p of eligible) {
    const held = best.get(p.bank);
    if (!held || p.minRatePct < held.minRatePct || (p.minRatePct === held.minRatePct && p.id < held.id))
      best.set(p.bank, p);
  }
  return [...best.values()].sort((a, b) => a.bank.localeCompare(b.bank));
}
