package config

// Subsystem names the disk collector's metrics.
const Subsystem = "disk"
