/** The published score model (model/scoring.ts) in the form the BFV scoring core takes. */
import type { ScoringModelSpec } from '../../crypto/he/index.ts';
import type { ScoreModel } from '../../model/index.ts';

/**
 * The fixed-point spec of a score model: centred integer features (feature scale 1), weights to
 * the model's scale, each feature bounded by its largest distance from its neutral value.
 */
export function scoringSpec(model: ScoreModel): ScoringModelSpec {
  return {
    id: `${model.id}@${model.version}`,
    intercept: model.intercept,
    featureScale: 1,
    weightScale: model.scale,
    features: model.features.map((f) => ({
      name: f.name,
      weight: f.weight,
      maxAbs: Math.max(1, f.max - f.neutral, f.neutral - f.min),
    })),
  };
}
