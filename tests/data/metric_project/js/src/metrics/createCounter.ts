import { Counter, type CounterConfiguration } from 'prom-client';

export const createCounter = <T extends string>(options: CounterConfiguration<T>) => {
    const counter = new Counter<T>(options);
    return { counter, inc: () => counter.inc() };
};
