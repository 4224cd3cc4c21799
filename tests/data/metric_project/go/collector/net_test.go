package collector

import "github.com/prometheus/client_golang/prometheus"

// a test double, not the application's metric
var fake = prometheus.NewGauge(prometheus.GaugeOpts{Name: "shop_net_rx_bytes_total"})
