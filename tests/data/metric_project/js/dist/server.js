const client = require('prom-client');
// a bundle built from src/: not where the metric is defined
new client.Histogram({ name: 'http_requests_total', help: 'old build', labelNames: ['path'] });
