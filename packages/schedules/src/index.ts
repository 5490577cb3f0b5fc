/**
 * Schedules: plain functions of the update count (0 on the first update)
 * that return a number, usually a learning rate. Each factory validates its
 * options when called and records them as a spec, so a schedule can be saved
 * and rebuilt.
 *
 * @packageDocumentation
 */
import './register.js';

export * from './exports.js';
