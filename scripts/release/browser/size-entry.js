// What a browser app that trains with EG-Adam through the functional API pulls in.
export { stepVariables } from '@tfopt/core';
export { egAdam } from '@tfopt/eg';
