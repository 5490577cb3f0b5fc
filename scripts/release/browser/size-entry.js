// What a browser app that trains with EG-Adam through the functional API pulls in. It imports
// no registration module (`@tfopt/<package>/register`): it neither saves nor loads a model.
export { stepVariables } from '@tfopt/core';
export { egAdam } from '@tfopt/eg';
