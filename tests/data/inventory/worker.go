package worker

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var labels = []string{"queue"}

var (
	queueDepth = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "worker",
		Name:      "queue_depth",
		Help:      "Jobs waiting.",
	}, labels)
	fetchSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:                        "worker_fetch_duration_seconds",
		Help:                        "Fetch latency.",
		NativeHistogramBucketFactor: 1.1,
	})
)
