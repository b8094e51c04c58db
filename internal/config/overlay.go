package config

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// Environment variables read by [Config.ApplyEnv].
const (
	EnvListen   = "TEAPHONE_LISTEN"    // sip.listen
	EnvRTPPorts = "TEAPHONE_RTP_PORTS" // media.rtp_ports, as "10000-20000"
	EnvAudio    = "TEAPHONE_AUDIO"     // media.audio
	EnvPassword = "TEAPHONE_PASSWORD"  // accounts[0].password
	EnvLogFile  = "TEAPHONE_LOG_FILE"  // ui.log_file
)

// ApplyEnv overlays the TEAPHONE_* variables (see the Env constants) read
// through lookup, usually os.LookupEnv. Unset or empty variables are ignored;
// TEAPHONE_PASSWORD is ignored when there is no account. Values that do not
// parse are reported by [Config.Validate], naming the variable.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) {
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		return v, ok && v != ""
	}
	if v, ok := get(EnvListen); ok {
		c.SIP.Listen = v
		c.setSource("sip.listen", "$"+EnvListen)
	}
	if v, ok := get(EnvRTPPorts); ok {
		c.setPorts(v, "$"+EnvRTPPorts)
	}
	if v, ok := get(EnvAudio); ok {
		c.Media.Audio = v
		c.setSource("media.audio", "$"+EnvAudio)
	}
	if v, ok := get(EnvPassword); ok && len(c.Accounts) > 0 {
		c.Accounts[0].Password = Secret(v)
		c.setSource("accounts[0].password", "$"+EnvPassword)
	}
	if v, ok := get(EnvLogFile); ok {
		c.UI.LogFile = v
		c.setSource("ui.log_file", "$"+EnvLogFile)
	}
}

// Overrides are the settings main takes from command-line flags; "" means
// the flag was not given. They win over the file and the environment.
type Overrides struct {
	// Listen overrides sip.listen (host:port).
	Listen string
	// Audio overrides media.audio (portaudio, null, tone:HZ, file:PATH).
	Audio string
	// RTPPorts overrides media.rtp_ports, written "LOW-HIGH" as in "10000-20000".
	RTPPorts string
	// LogFile overrides ui.log_file.
	LogFile string
	// Metrics overrides metrics.listen (host:port or a port).
	Metrics string
}

// ApplyOverrides overlays the flag values that are set. Values that do not
// parse are reported by [Config.Validate].
func (c *Config) ApplyOverrides(o Overrides) {
	const src = "command line"
	if o.Listen != "" {
		c.SIP.Listen = o.Listen
		c.setSource("sip.listen", src)
	}
	if o.RTPPorts != "" {
		c.setPorts(o.RTPPorts, src)
	}
	if o.Audio != "" {
		c.Media.Audio = o.Audio
		c.setSource("media.audio", src)
	}
	if o.LogFile != "" {
		c.UI.LogFile = o.LogFile
		c.setSource("ui.log_file", src)
	}
	if o.Metrics != "" {
		c.Metrics.Listen = o.Metrics
		c.setSource("metrics.listen", src)
	}
}

// setPorts parses "LOW-HIGH" into media.rtp_ports, or records why it can't.
func (c *Config) setPorts(v, src string) {
	const key = "media.rtp_ports"
	c.setSource(key, src)
	low, high, err := parsePortRange(v)
	if err != nil {
		c.overlayErrs = append(c.overlayErrs, &Error{Source: src, Key: key, Msg: key + ": " + err.Error(), Err: ErrInvalid})
		return
	}
	c.Media.RTPPorts = []int{low, high}
}

// Overridden reports whether key (such as "media.audio") was set by an
// environment variable or a command-line flag, over the file and the
// defaults.
func (c Config) Overridden(key string) bool {
	_, ok := c.src[key]
	return ok
}

// setSource records that key now comes from src rather than the file.
// The map is copied first, so Config values copied earlier are unaffected.
func (c *Config) setSource(key, src string) {
	c.src = maps.Clone(c.src)
	if c.src == nil {
		c.src = map[string]string{}
	}
	c.src[key] = src
	// Drop an earlier parse error for the same key: the later value wins.
	kept := c.overlayErrs[:0:0]
	for _, err := range c.overlayErrs {
		if e, ok := err.(*Error); !ok || e.Key != key {
			kept = append(kept, err)
		}
	}
	c.overlayErrs = kept
}

// parsePortRange parses "LOW-HIGH" such as "10000-20000".
func parsePortRange(s string) (low, high int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		low, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			high, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("want LOW-HIGH such as \"10000-20000\", got %q", s)
	}
	return low, high, nil
}
