import { createCounter } from './metrics/index.js';
import { HTTP_LABELS } from './labels.js';

export const requests = createCounter({
    name: 'http_requests_total',
    help: 'Requests served.',
    labelNames: [...HTTP_LABELS, 'status'],
});
