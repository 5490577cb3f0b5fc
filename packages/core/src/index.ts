/**
 * The core of tfopt: the gradient-transformation type, `chain`, tree helpers,
 * option validation and the ownership helpers that apply updates and free
 * replaced states.
 *
 * @packageDocumentation
 */
import { installFusedEngine } from './fusedLoad.js';
import { runFusedStep } from './fusedRun.js';
import './register.js';

export * from './exports.js';

// The Node entry: the fused path is there from the first step (a bundle loads it on demand).
installFusedEngine(runFusedStep);
