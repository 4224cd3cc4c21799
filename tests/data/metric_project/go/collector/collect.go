package collector

import "github.com/prometheus/client_golang/prometheus"

func (c *netCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.rxBytes, prometheus.CounterValue, 1, "eth0")
}
