package collector

import "github.com/prometheus/client_golang/prometheus"

var diskFree = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Namespace: namespace,
	Subsystem: diskSubsystem,
	Name:      "free_bytes",
	Help:      "Free bytes.",
}, deviceLabels)
