package collector

import "example.com/shop/config"

const namespace = "shop"

const diskSubsystem = config.Subsystem

var deviceLabels = []string{"device"}
