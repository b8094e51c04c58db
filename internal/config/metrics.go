package config

import (
	"net"
	"strconv"
	"strings"
)

// Metrics is the [metrics] table: a Prometheus endpoint, off by default.
type Metrics struct {
	// Listen is where /metrics is served: "host:port", or ":port" or
	// "port" for 127.0.0.1; "" serves nothing. Anyone who reaches a
	// non-loopback address reads the phone's call figures.
	Listen string `toml:"listen"`
}

// metrics checks the [metrics] table.
func (v *validator) metrics() {
	l := v.c.Metrics.Listen
	if l == "" {
		return
	}
	if strings.Trim(l, "0123456789") == "" {
		l = ":" + l
	}
	_, port, err := net.SplitHostPort(l)
	if err != nil {
		v.addf("metrics.listen", "want host:port such as \"127.0.0.1:9464\", or a port, got %q", v.c.Metrics.Listen)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		v.addf("metrics.listen", "port %q is not a number in 0..65535", port)
	}
}
