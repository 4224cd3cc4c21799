package collector

import "github.com/prometheus/client_golang/prometheus"

type netCollector struct {
	rxBytes *prometheus.Desc
}

func newNetCollector() *netCollector {
	return &netCollector{
		rxBytes: prometheus.NewDesc(
			prometheus.BuildFQName(namespace, "net", "rx_bytes_total"),
			"Bytes received.",
			deviceLabels, nil,
		),
	}
}
