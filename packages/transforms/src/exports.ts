// Every export of @tfopt/transforms: the entry bundlers get (the `default` condition of
// package.json's `exports`), from which they keep only what a program uses. It registers no
// factory (that is register.ts, which the Node entry index.ts imports); it only tells the
// fused path where this package's fused links are, so that a bundle fetches them with it.
import { registerFusedLinkLoader } from '@tfopt/core';

export * from './accumulation.js';
export {
  type ScaleByAdadeltaOptions,
  type ScaleByAdadeltaState,
  scaleByAdadelta,
} from './adadelta.js';
export { type ScaleByAdagradOptions, type ScaleByAdagradState, scaleByAdagrad } from './adagrad.js';
export { type ScaleByAdamOptions, type ScaleByAdamState, scaleByAdam } from './adam.js';
export { type ScaleByAdanOptions, type ScaleByAdanState, scaleByAdan } from './adan.js';
export {
  type ScaleByAdamaxOptions,
  type ScaleByAdamaxState,
  type ScaleByAmsgradOptions,
  type ScaleByAmsgradState,
  type ScaleByBeliefOptions,
  type ScaleByBeliefState,
  type ScaleByRadamOptions,
  type ScaleByRadamState,
  type ScaleByYogiOptions,
  type ScaleByYogiState,
  scaleByAdamax,
  scaleByAmsgrad,
  scaleByBelief,
  scaleByRadam,
  scaleByYogi,
} from './adaptive.js';
export * from './adaptiveAliases.js';
export * from './aliases.js';
export { centralize } from './centralize.js';
export * from './clip.js';
export * from './clipBlock.js';
export * from './combining.js';
export * from './conditionality.js';
export {
  keepParamsNonnegative,
  type ZeroNansState,
  zeroNans,
} from './constraints.js';
export {
  type ScaleByFactoredRmsOptions,
  type ScaleByFactoredRmsState,
  scaleByFactoredRms,
} from './factored.js';
export * from './factoredAliases.js';
export * from './flatten.js';
export {
  type LionMode,
  type ScaleByLionOptions,
  type ScaleByLionState,
  scaleByLion,
} from './lion.js';
export * from './lookahead.js';
export * from './masking.js';
export * from './miscAliases.js';
export * from './moments.js';
export { type AddNoiseOptions, type AddNoiseState, addNoise } from './noise.js';
export {
  type ScaleByNovogradOptions,
  type ScaleByNovogradState,
  scaleByNovograd,
} from './novograd.js';
export {
  type ScaleByOptimisticGradientOptions,
  type ScaleByOptimisticGradientState,
  scaleByOptimisticGradient,
} from './optimistic.js';
export * from './paramTerms.js';
export {
  type PolyakVariant,
  type ScaleByPolyakStepSizeOptions,
  scaleByPolyakStepSize,
} from './polyak.js';
export {
  type ScaleByRmsOptions,
  type ScaleByRmsState,
  type ScaleByStddevState,
  scaleByRms,
  scaleByStddev,
} from './rms.js';
export {
  type ScaleByRpropOptions,
  type ScaleByRpropState,
  scaleByRprop,
} from './rprop.js';
export * from './scale.js';
export { scaleBySign } from './sign.js';
export { type ScaleBySm3Options, type ScaleBySm3State, scaleBySm3 } from './sm3.js';
export * from './trace.js';
export {
  type AdaptiveGradClipOptions,
  adaptiveGradClip,
  type ScaleByTrustRatioOptions,
  scaleByTrustRatio,
} from './trust.js';
export {
  type AddDecayedWeightsOptions,
  addDecayedWeights,
  type MaskTree,
} from './weightDecay.js';

registerFusedLinkLoader(() => import('./fused.js').then((m) => m.registerFusedTransforms()));
