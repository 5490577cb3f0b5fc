/**
 * Optax-style gradient transformations for TensorFlow.js: the building blocks
 * (`scaleByAdam`, `trace`, `clipByGlobalNorm`, ...), the combinators
 * (`partition`, `masked`, `multiSteps`, `lookahead`, ...) and the optimizer
 * aliases built from them (`sgd`, `adam`, `lion`, `adafactor`, ...), each
 * only a `chain`.
 *
 * @packageDocumentation
 */
import { registerOptimizers, registerPackageFactories } from '@tfopt/core';
import { OPTIMIZERS } from './catalog.js';
import { registerFusedTransforms } from './fused.js';
import * as self from './index.js';

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

// Every factory this package exports can be saved and revived by name; its aliases join the catalog.
registerPackageFactories('@tfopt/transforms', self);
registerOptimizers(OPTIMIZERS);
registerFusedTransforms();
