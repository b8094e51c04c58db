package config

import (
	"errors"
	"fmt"
	"github.com/teaphone/teaphone/audio/opus"
	"maps"
	"math"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/sipaddr"
	"github.com/teaphone/teaphone/phone/stun"
)

// MaxCallsCeiling is the highest sip.max_calls: what one "teaphone
// answer" process was measured to sustain in make bench's max-calls case
// (TEAPHONE_BENCH_MAXCALLS=1: all calls answered, ≥ 90 % of the RTP each
// way, setup p99 ≤ 2 s) on a 2-core machine shared with the load
// generator: 2000 held in three runs of four (the fourth under extra
// load), 3000 in one of two, 4000 never (README.md, Load mode).
const MaxCallsCeiling = 2000

// validator collects field errors, each located by key.
type validator struct {
	c    *Config
	errs []error
}

// addf records a problem with key.
func (v *validator) addf(key, format string, args ...any) {
	e := &Error{Key: key, Msg: key + ": " + fmt.Sprintf(format, args...), Err: ErrInvalid}
	e.File, e.Line, e.Source = v.c.locate(key)
	v.errs = append(v.errs, e)
}

// locate says where the value at key came from: the file and line, or an
// env/flag source. It falls back to the enclosing table, so a missing
// required key points at its [[accounts]] header.
func (c *Config) locate(key string) (file string, line int, source string) {
	for k := key; k != ""; k = parentKey(k) {
		if s, ok := c.src[k]; ok {
			return "", 0, s
		}
		if l, ok := c.pos[k]; ok {
			return c.file, l, ""
		}
	}
	return c.file, 0, ""
}

// headerSafe checks a string that goes into SIP headers.
func (v *validator) headerSafe(key, s string) bool {
	if err := sipaddr.CheckText(s); err != nil {
		v.addf(key, "%v, got %q", err, s)
		return false
	}
	return true
}

// Validate checks the configuration and returns an errors.Join of [*Error]s,
// each naming the TOML key path, and the line when the value came from the
// file (or the variable or "command line" when it came from an overlay).
// A configuration without accounts is valid.
func (c Config) Validate() error {
	v := &validator{c: &c}
	v.errs = append(v.errs, c.overlayErrs...)
	v.sip()
	v.accounts()
	v.media()
	v.calls()
	v.nat()
	v.tls()
	v.ui()
	v.metrics()
	v.contacts()
	v.rules()
	v.history()
	return errors.Join(v.errs...)
}

// sip checks the [sip] table.
func (v *validator) sip() {
	s := v.c.SIP
	if err := parseListen(s.Listen); err != nil {
		v.addf("sip.listen", "%v", err)
	}
	if len(s.Transports) == 0 {
		v.addf("sip.transports", "want at least one of \"udp\", \"tcp\"")
	}
	for i, t := range s.Transports {
		key := fmt.Sprintf("sip.transports[%d]", i)
		switch {
		case t != "udp" && t != "tcp":
			v.addf(key, "want \"udp\" or \"tcp\", got %q", t)
		case slices.Index(s.Transports, t) < i:
			v.addf(key, "%q is listed twice", t)
		}
	}
	v.headerSafe("sip.user_agent", s.UserAgent)
	if s.MaxCalls < 1 || s.MaxCalls > MaxCallsCeiling {
		v.addf("sip.max_calls", "want 1..%d, got %d", MaxCallsCeiling, s.MaxCalls)
	}
	if d := s.DeferTimeout.Duration; d < time.Second || d > time.Hour {
		v.addf("sip.defer_timeout", "want 1s..1h, got %s", d)
	}
	// RFC 4028 §4: Min-SE is at least 90 seconds; Session-Expires at least
	// Min-SE.
	if d := s.MinSE.Duration; d < 90*time.Second || d > 24*time.Hour {
		v.addf("sip.min_se", "want 90s..24h (RFC 4028), got %s", d)
	}
	if d := s.SessionExpires.Duration; d != 0 && (d < s.MinSE.Duration || d > 24*time.Hour) {
		v.addf("sip.session_expires", "want 0 (none) or min_se (%s)..24h, got %s", s.MinSE.Duration, d)
	}
	if c := s.ForeignURICode; c != 403 && c != 404 {
		v.addf("sip.foreign_uri_code", "want 404 (Not Found) or 403 (Forbidden), got %d", c)
	}
	if n := s.NewCallRate; n < 0 || n > 1000 {
		v.addf("sip.max_new_calls_per_s", "want 0 (no limit) or 1..1000, got %d", n)
	}
	for i, d := range s.DNSServers {
		if !validDNSServer(d) {
			v.addf(fmt.Sprintf("sip.dns_servers[%d]", i), "want an IP address or ip:port, got %q", d)
		}
	}
}

// validDNSServer reports whether s is an IP address, or an IP address and
// a port (IPv6 in brackets then).
func validDNSServer(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	ap, err := netip.ParseAddrPort(s)
	return err == nil && ap.Port() != 0
}

// accounts checks every [[accounts]] entry.
func (v *validator) accounts() {
	accs := v.c.Accounts
	for i, a := range accs {
		p := fmt.Sprintf("accounts[%d].", i)
		switch {
		case a.Name == "" && len(accs) > 1:
			v.addf(p+"name", "required when there is more than one account")
		case !v.headerSafe(p+"name", a.Name):
		default:
			for j := range i {
				if accs[j].Name == a.Name && a.Name != "" {
					v.addf(p+"name", "%q is already the name of accounts[%d]", a.Name, j)
					break
				}
			}
		}
		switch {
		case a.AOR == "":
			v.addf(p+"aor", "required: a sip: or sips: URI with a user, like \"sip:alice@pbx.example.com\"")
		case !v.headerSafe(p+"aor", a.AOR):
		default:
			u, err := parseSIPURI(a.AOR)
			if err == nil && u.User == "" {
				err = errors.New("no user")
			}
			if err != nil {
				v.addf(p+"aor", "want a sip: or sips: URI with a user, got %q (%v)", a.AOR, err)
			}
		}
		v.headerSafe(p+"display_name", a.DisplayName)
		v.hostOrURI(p+"registrar", a.Registrar)
		v.hostOrURI(p+"outbound_proxy", a.OutboundProxy)
		v.headerSafe(p+"username", a.Username)
		if a.PasswordEnv != "" && !isEnvName(a.PasswordEnv) {
			v.addf(p+"password_env", "want an environment variable name like \"TEAPHONE_WORK_PASSWORD\", got %q", a.PasswordEnv)
		}
		if a.Expires < 10 || a.Expires > 86400 {
			v.addf(p+"expires", "want 10..86400 seconds, got %d", a.Expires)
		}
		if a.Voicemail != "" && v.headerSafe(p+"voicemail", a.Voicemail) {
			if _, err := parseSIPURI(a.Voicemail); err != nil {
				v.addf(p+"voicemail", "want a sip: or sips: URI like \"sip:*97@pbx.example.com\", got %q (%v)", a.Voicemail, err)
			}
		}
		if a.MediaEncryption != "" && !validEncryption(a.MediaEncryption) {
			v.addf(p+"media_encryption", "want \"\" (media.encryption), \"none\", \"srtp-optional\", \"srtp-mandatory\" or \"dtls-srtp\", got %q", a.MediaEncryption)
		}
	}
}

// hostOrURI checks an optional host[:port] or sip:/sips: URI.
func (v *validator) hostOrURI(key, s string) {
	if s == "" || !v.headerSafe(key, s) {
		return
	}
	var err error
	if sipaddr.HasSIPScheme(s) {
		_, err = parseSIPURI(s)
	} else {
		_, _, err = sipaddr.ParseHostPort(s)
	}
	if err != nil {
		v.addf(key, "want host:port or a sip:/sips: URI, got %q (%v)", s, err)
	}
}

// media checks the [media] table.
func (v *validator) media() {
	m := v.c.Media
	if d := m.AudioLatency.Duration; d < 20*time.Millisecond || d > 500*time.Millisecond {
		v.addf("media.audio_latency", "want 20ms..500ms, got %s", d)
	}
	if d := m.EchoTail.Duration; d < 20*time.Millisecond || d > time.Second {
		v.addf("media.echo_tail", "want 20ms..1s, got %s", d)
	}
	if len(m.RTPPorts) != 2 {
		v.addf("media.rtp_ports", "want [low, high], got %d numbers", len(m.RTPPorts))
	} else {
		low, high := m.RTPPorts[0], m.RTPPorts[1]
		switch {
		case low < 1024 || low > 65535 || high < 1024 || high > 65535:
			v.addf("media.rtp_ports", "want ports within 1024..65535, got %d-%d", low, high)
		case low >= high:
			v.addf("media.rtp_ports", "want low < high, got %d-%d", low, high)
		case low%2 != 0:
			v.addf("media.rtp_ports", "want an even low port (RTP even, RTCP odd), got %d", low)
		}
	}
	if len(m.Codecs) == 0 {
		v.addf("media.codecs", "want at least one of \"opus\", \"G722\", \"PCMU\", \"PCMA\"")
	}
	for i, c := range m.Codecs {
		key := fmt.Sprintf("media.codecs[%d]", i)
		switch {
		case c != "PCMU" && c != "PCMA" && c != "G722" && c != "opus":
			v.addf(key, "want \"opus\", \"G722\", \"PCMU\" or \"PCMA\", got %q", c)
		case c == "opus" && !opus.Available:
			v.addf(key, "this teaphone was built without Opus (no cgo or libopus); use \"G722\", \"PCMU\" or \"PCMA\", or rebuild with libopus-dev")
		case slices.Index(m.Codecs, c) < i:
			v.addf(key, "%q is listed twice", c)
		}
	}
	if _, err := ParseAudio(m.Audio); err != nil {
		v.addf("media.audio", "%v", err)
	}
	switch m.DTMFMode {
	case DTMFAuto, DTMFRFC4733, DTMFInfo:
	default:
		v.addf("media.dtmf_mode", "want \"auto\", \"rfc4733\" or \"info\", got %q", m.DTMFMode)
	}
	if !validEncryption(m.Encryption) {
		v.addf("media.encryption", "want \"none\", \"srtp-optional\", \"srtp-mandatory\" or \"dtls-srtp\", got %q", m.Encryption)
	}
	switch m.HoldStyle {
	case HoldSendonly, HoldC0:
	default:
		v.addf("media.hold_style", "want \"sendonly\" or \"c0\", got %q", m.HoldStyle)
	}
	if d := m.RTPTimeout.Duration; d != 0 && (d < time.Second || d > time.Hour) {
		v.addf("media.rtp_timeout", "want 0 (never) or 1s..1h, got %s", d)
	}
	if m.RecordTemplate == "" {
		v.addf("media.record_template", "must not be empty")
	} else if err := sipaddr.CheckText(m.RecordTemplate); err != nil {
		v.addf("media.record_template", "%v, got %q", err, m.RecordTemplate)
	}
}

// calls checks the [calls] table: the transfer policy. A glob is checked
// the way path.Match reads it, and must name a sip: or sips: target.
func (v *validator) calls() {
	switch m := v.c.Calls.AcceptTransfer; m {
	case "", TransferAlways, TransferAsk, TransferNever:
	default:
		v.addf("calls.accept_transfer", "want \"always\", \"ask\" or \"never\", got %q", m)
	}
	for i, g := range v.c.Calls.TransferAllow {
		key := fmt.Sprintf("calls.transfer_allow[%d]", i)
		if !v.headerSafe(key, g) {
			continue
		}
		l := strings.ToLower(g)
		if _, err := path.Match(g, ""); err != nil {
			v.addf(key, "bad glob %q: %v", g, err)
		} else if !strings.HasPrefix(l, "sip:") && !strings.HasPrefix(l, "sips:") {
			v.addf(key, "want a glob of sip: or sips: URIs such as \"sip:*@pbx.example\", got %q", g)
		}
	}
}

// nat checks the [nat] table.
func (v *validator) nat() {
	if d := v.c.NAT.KeepAlive.Duration; d != 0 && (d < time.Second || d > 10*time.Minute) {
		v.addf("nat.keepalive", "want 0 (none) or 1s..10m, got %s", d)
	}
	if s := v.c.NAT.STUNServer; s != "" {
		if _, _, err := stun.SplitServer(s); err != nil {
			v.addf("nat.stun_server", "want host or host:port, got %q", s)
		}
	}
}

// ui checks that [ui.keys] names only known actions.
func (v *validator) ui() {
	for _, name := range slices.Sorted(maps.Keys(v.c.UI.Keys)) {
		if !slices.Contains(keyActions, name) {
			v.addf("ui.keys."+name, "unknown action %q; known: %s", name, strings.Join(keyActions, ", "))
		}
	}
}

// contacts checks every [[contacts]] entry.
func (v *validator) contacts() {
	for i, c := range v.c.Contacts {
		p := fmt.Sprintf("contacts[%d].", i)
		v.headerSafe(p+"name", c.Name)
		switch {
		case c.URI == "":
			v.addf(p+"uri", "required: a sip: or sips: URI")
		case !v.headerSafe(p+"uri", c.URI):
		default:
			if _, err := parseSIPURI(c.URI); err != nil {
				v.addf(p+"uri", "want a sip: or sips: URI, got %q (%v)", c.URI, err)
			}
		}
	}
}

// isEnvName reports whether s is a portable environment variable name.
func isEnvName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9'
		if !ok {
			return false
		}
	}
	return s != ""
}

// Audio backends named by media.audio.
const (
	AudioPortAudio = "portaudio"
	AudioNull      = "null"
	AudioTone      = "tone"
	AudioFile      = "file"
)

// AudioSpec is a parsed media.audio value.
type AudioSpec struct {
	// Kind is one of AudioPortAudio, AudioNull, AudioTone, AudioFile.
	Kind string
	// ToneHz is the tone frequency for AudioTone.
	ToneHz float64
	// Path is the WAV file for AudioFile.
	Path string
}

// ParseAudio parses "portaudio", "null", "tone:HZ" (20..20000 Hz; above 4000 Hz
// only a wideband call carries it, and the device refuses a tone above half
// its rate) or "file:PATH".
func ParseAudio(s string) (AudioSpec, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	switch {
	case (kind == AudioPortAudio || kind == AudioNull) && !hasArg:
		return AudioSpec{Kind: kind}, nil
	case kind == AudioTone:
		hz, err := strconv.ParseFloat(arg, 64)
		if err != nil || math.IsNaN(hz) || hz < 20 || hz > 20000 {
			return AudioSpec{}, fmt.Errorf("want tone:HZ with HZ a number in 20..20000, got %q", s)
		}
		return AudioSpec{Kind: AudioTone, ToneHz: hz}, nil
	case kind == AudioFile:
		if arg == "" {
			return AudioSpec{}, fmt.Errorf("want file:PATH with a non-empty path, got %q", s)
		}
		return AudioSpec{Kind: AudioFile, Path: arg}, nil
	}
	return AudioSpec{}, fmt.Errorf("want \"portaudio\", \"null\", \"tone:HZ\" or \"file:PATH\", got %q", s)
}
