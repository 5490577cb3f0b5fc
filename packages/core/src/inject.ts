// Owned by the layers work: injectHyperparams (hyperparameters kept in the state so they can be read and changed between steps).
export {};
