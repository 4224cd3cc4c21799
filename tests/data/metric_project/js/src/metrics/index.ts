export * from './createCounter.js';
