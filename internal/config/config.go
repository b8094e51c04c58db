package config

import (
	"fmt"
	"github.com/teaphone/teaphone/audio/opus"
	"os"
	"path/filepath"
	"time"
)

// Config is the whole teaphone configuration. The zero value is not useful;
// start from [Default] or [Load].
type Config struct {
	// SIP holds the user agent and transport settings ([sip]).
	SIP SIP `toml:"sip"`
	// Accounts are the SIP identities ([[accounts]]); none is valid.
	Accounts []Account `toml:"accounts"`
	// Media holds RTP, codec and audio device settings ([media]).
	Media Media `toml:"media"`
	// Calls holds call-handling behaviour ([calls]).
	Calls Calls `toml:"calls"`
	// NAT holds NAT traversal settings ([nat]).
	NAT NAT `toml:"nat"`
	// TLS holds certificate settings for TLS connections ([tls]).
	TLS TLS `toml:"tls"`
	// UI holds the terminal interface settings ([ui]).
	UI UI `toml:"ui"`
	// Metrics holds the Prometheus endpoint settings ([metrics]).
	Metrics Metrics `toml:"metrics"`
	// History holds the call history settings ([history]).
	History History `toml:"history"`
	// Contacts is the address book ([[contacts]]).
	Contacts []Contact `toml:"contacts"`
	// Rules decide what happens to incoming calls ([[rules]]), before the
	// mode's default; see [Rule].
	Rules []Rule `toml:"rules"`

	// file is the path the config was loaded from, "" for defaults.
	file string
	// pos maps key paths ("accounts[0].aor") to their line in file.
	pos map[string]int
	// src maps key paths set by env or flags to their origin.
	src map[string]string
	// overlayErrs are env/flag values that could not be parsed; Validate reports them.
	overlayErrs []error
}

// SIP is the [sip] table.
type SIP struct {
	// Listen is host:port; UDP and TCP both listen there. Host may be empty.
	Listen string `toml:"listen"`
	// Transports is a subset of "udp" and "tcp".
	Transports []string `toml:"transports"`
	// ListenTLS is host:port of an optional TLS listener ("" = none); it
	// serves tls.cert_file, which it requires.
	ListenTLS string `toml:"listen_tls"`
	// UserAgent is sent in the User-Agent and Server headers.
	UserAgent string `toml:"user_agent"`
	// MaxCalls is the number of simultaneous calls; further INVITEs get 486.
	MaxCalls int `toml:"max_calls"`
	// DeferTimeout is how long a deferred incoming call rings before it is rejected.
	DeferTimeout Duration `toml:"defer_timeout"`
	// DNSServers answer the lookups of a registrar, outbound proxy or
	// dialled domain ("ip" or "ip:port"); empty means /etc/resolv.conf's.
	DNSServers []string `toml:"dns_servers"`
	// SessionExpires is the session-timer interval (RFC 4028) our INVITEs
	// ask for; 0 asks for none.
	SessionExpires Duration `toml:"session_expires"`
	// MinSE is the shortest session-timer interval we accept (Min-SE).
	MinSE Duration `toml:"min_se"`
	// AcceptDirect takes INVITEs whose Request-URI user is none of the
	// accounts' (direct calls). Unset (nil) means: on when no account
	// registers, off otherwise.
	AcceptDirect *bool `toml:"accept_direct"`
	// ForeignURICode is the answer to a direct call when AcceptDirect is
	// off: 404 or 403.
	ForeignURICode int `toml:"foreign_uri_code"`
	// NewCallRate is how many new incoming calls a second one source
	// address may start, with bursts of twice as many; more get 503 with
	// Retry-After. 0 is no limit.
	NewCallRate int `toml:"max_new_calls_per_s"`
}

// Account is one [[accounts]] entry. Its String, GoString and LogValue
// methods never reveal the password or the password command.
type Account struct {
	// Name identifies the account in events and the UI; unique, required when
	// there is more than one account.
	Name string `toml:"name"`
	// AOR is the address of record, a sip: or sips: URI with a user.
	AOR string `toml:"aor"`
	// DisplayName is the display name put in From headers.
	DisplayName string `toml:"display_name"`
	// Registrar is host[:port] or a sip:/sips: URI; "" means the AOR host.
	Registrar string `toml:"registrar"`
	// OutboundProxy is host[:port] or a sip:/sips: URI; "" means none.
	OutboundProxy string `toml:"outbound_proxy"`
	// Username is the digest user; "" means the AOR user.
	Username string `toml:"username"`
	// Password is the plain password (discouraged; prefer PasswordEnv or PasswordCmd).
	Password Secret `toml:"password"`
	// PasswordEnv names an environment variable holding the password.
	PasswordEnv string `toml:"password_env"`
	// PasswordCmd is a shell command whose first stdout line is the password.
	PasswordCmd string `toml:"password_cmd"`
	// Register says whether to REGISTER this account.
	Register bool `toml:"register"`
	// Expires is the requested registration lifetime in seconds (10..86400).
	Expires int `toml:"expires"`
	// MediaEncryption overrides media.encryption for this account's calls;
	// "" uses media.encryption.
	MediaEncryption string `toml:"media_encryption"`
	// Voicemail is the mailbox URI (sip:/sips:) subscribed to when
	// MailboxSubscribe is set; "" means the AOR.
	Voicemail string `toml:"voicemail"`
	// MailboxSubscribe subscribes to the mailbox's message summary (RFC
	// 3842) once registered. Off by default: most PBXes notify unasked.
	MailboxSubscribe bool `toml:"mailbox_subscribe"`
	// TLS holds the account's own TLS settings ([accounts.tls]).
	TLS AccountTLS `toml:"tls"`
}

// Media is the [media] table.
type Media struct {
	// RTPPorts is [low, high]: low even, low < high, both in 1024..65535.
	RTPPorts []int `toml:"rtp_ports"`
	// Codecs lists "PCMU" and/or "PCMA" in order of preference.
	Codecs []string `toml:"codecs"`
	// Audio selects the backend: "portaudio", "null", "tone:HZ" or "file:PATH"; see [ParseAudio].
	// From the file or the defaults, "portaudio" runs with audio off on a
	// machine without a sound card; from a flag or the environment (see
	// [Config.Overridden]) it insists on one.
	Audio string `toml:"audio"`
	// InputDevice is a PortAudio device name or index; "" is the default device.
	InputDevice string `toml:"input_device"`
	// OutputDevice is a PortAudio device name or index; "" is the default device.
	OutputDevice string `toml:"output_device"`
	// RingDevice is where the ring tone plays; "" is the output device.
	RingDevice string `toml:"ring_device"`
	// AudioLatency is the sound card latency asked of PortAudio: playback
	// keeps this minus 10 ms queued ahead of the speaker. Raise it when the
	// log reports underflows (gaps).
	AudioLatency Duration `toml:"audio_latency"`
	// EchoCancel cancels the speaker's echo in the microphone signal of the
	// sound card (audio "portaudio"; the null, tone and file sources never
	// run it): for calls on loudspeakers. A headset needs none.
	EchoCancel bool `toml:"echo_cancel"`
	// EchoTail is the longest echo the canceller follows beyond the delay
	// the sound card reports: room reverberation and latency the card
	// does not report (20ms..1s).
	EchoTail Duration `toml:"echo_tail"`
	// NoiseSuppress makes the echo canceller take steady background noise
	// down too (up to 15 dB); it learns any steady sound as noise, a test
	// tone played into the microphone included. Only with EchoCancel.
	NoiseSuppress bool `toml:"noise_suppress"`
	// DTMFMode is "auto", "rfc4733" or "info".
	DTMFMode string `toml:"dtmf_mode"`
	// HoldStyle is "sendonly" or "c0" (c=0.0.0.0, for old PBXes).
	HoldStyle string `toml:"hold_style"`
	// RTPTimeout ends an answered call, held by neither side, that receives
	// no RTP for this long; 0 never does.
	RTPTimeout Duration `toml:"rtp_timeout"`
	// ICE makes the SDP carry ICE-lite credentials and candidates and
	// answers the peer's ICE connectivity checks (RFC 8445 §2.5).
	ICE bool `toml:"ice"`
	// RTCPMux offers and accepts RTP/RTCP multiplexing (RFC 5761
	// a=rtcp-mux), so that one NAT binding carries RTP and RTCP.
	RTCPMux bool `toml:"rtcp_mux"`
	// Encryption is "none", "srtp-optional" (RTP/AVP offers with SDES
	// a=crypto, SRTP when the peer agrees), "srtp-mandatory" (RTP/SAVP;
	// calls that cannot be encrypted fail with 488) or "dtls-srtp"
	// (UDP/TLS/RTP/SAVP, keys from a DTLS handshake on the media port,
	// RFC 5763/5764; mandatory).
	Encryption string `toml:"encryption"`
	// RecordDir is where recordings go; "" is the current directory.
	RecordDir string `toml:"record_dir"`
	// RecordTemplate names recording files; {date}, {remote} and {call_id} are expanded.
	RecordTemplate string `toml:"record_template"`
}

// Calls is the [calls] table.
type Calls struct {
	// AutoHold holds the active call when another one is answered.
	AutoHold bool `toml:"auto_hold"`
	// AcceptTransfer is what a transfer request (REFER) from the party of
	// a call gets: "always" (followed), "ask" (the user decides; refused
	// after 30 s), "never" (603 Decline). "" is "ask" in the terminal UI and
	// "never" in answer and dial mode.
	AcceptTransfer string `toml:"accept_transfer"`
	// TransferAllow lists target globs (path.Match: *, ?, [a-z]) matched
	// against scheme:user@host[:port]: a matching target is followed
	// without asking, even with "never"; with "always" only they are.
	TransferAllow []string `toml:"transfer_allow"`
}

// Transfer modes of calls.accept_transfer.
const (
	TransferAlways = "always"
	TransferAsk    = "ask"
	TransferNever  = "never"
)

// TransferMode is calls.accept_transfer, or its default for a mode ("tui",
// "answer", "dial") when it is "".
func (c Calls) TransferMode(mode string) string {
	switch {
	case c.AcceptTransfer != "":
		return c.AcceptTransfer
	case mode == "tui":
		return TransferAsk
	}
	return TransferNever
}

// NAT is the [nat] table: getting through a NAT the way pjsua does.
type NAT struct {
	// ContactRewrite re-registers with the address and port the registrar
	// saw (the received and rport of its response's Via) when they differ
	// from the Contact, and uses that Contact for the account's calls.
	ContactRewrite bool `toml:"contact_rewrite"`
	// KeepAlive is how often a registered account sends a keep-alive (a
	// double CRLF) to its registrar; 0 sends none.
	KeepAlive Duration `toml:"keepalive"`
	// STUNServer ("host", "host:port") is asked for the public address of
	// each call's RTP port when behind a NAT; "" asks nobody.
	STUNServer string `toml:"stun_server"`
}

// UI is the [ui] table.
type UI struct {
	// LogFile is the log path; "" means [DefaultLogFile].
	LogFile string `toml:"log_file"`
	// Keys overrides key bindings: action name to keys, e.g. "answer" = ["a"].
	// Action names must be among [KeyActions].
	Keys map[string][]string `toml:"keys"`
}

// Contact is one [[contacts]] entry.
type Contact struct {
	// Name is shown in the UI.
	Name string `toml:"name"`
	// URI is a sip: or sips: URI.
	URI string `toml:"uri"`
}

// Values accepted by Media.DTMFMode.
const (
	DTMFAuto    = "auto"
	DTMFRFC4733 = "rfc4733"
	DTMFInfo    = "info"
)

// Values accepted by Media.Encryption and Account.MediaEncryption.
const (
	EncryptionNone          = "none"
	EncryptionSRTPOptional  = "srtp-optional"
	EncryptionSRTPMandatory = "srtp-mandatory"
	EncryptionDTLSSRTP      = "dtls-srtp"
)

// validEncryption reports whether e is a media.encryption value.
func validEncryption(e string) bool {
	return e == EncryptionNone || e == EncryptionSRTPOptional || e == EncryptionSRTPMandatory || e == EncryptionDTLSSRTP
}

// Values accepted by Media.HoldStyle.
const (
	HoldSendonly = "sendonly"
	HoldC0       = "c0"
)

// keyActions are the action names allowed in [ui.keys].
var keyActions = []string{
	"answer", "reject", "end", "hold", "mute", "transfer", "attended_transfer",
	"conference", "record", "next", "prev", "help", "quit", "dial", "forward", "defer",
	"log", "devices", "history", "voicemail",
}

// KeyActions returns the action names accepted in [ui.keys].
func KeyActions() []string {
	return append([]string(nil), keyActions...)
}

// DefaultCodecs is media.codecs when the file does not say: wideband first
// (Opus when this build has it, then G.722), then G.711, as the anchors
// offer them; the answer takes the widest band both sides have.
func DefaultCodecs() []string {
	if opus.Available {
		return []string{"opus", "G722", "PCMU", "PCMA"}
	}
	return []string{"G722", "PCMU", "PCMA"}
}

// Default returns the built-in configuration: no accounts, no contacts.
func Default() Config {
	return Config{
		SIP: SIP{
			Listen:         "0.0.0.0:5060",
			Transports:     []string{"udp", "tcp"},
			DNSServers:     []string{},
			UserAgent:      "teaphone",
			MaxCalls:       4,
			DeferTimeout:   Duration{60 * time.Second},
			SessionExpires: Duration{30 * time.Minute},
			MinSE:          Duration{90 * time.Second},
			ForeignURICode: 404,
			NewCallRate:    5,
		},
		Media: Media{
			RTPPorts:       []int{10000, 20000},
			Codecs:         DefaultCodecs(),
			Audio:          "portaudio",
			AudioLatency:   Duration{20 * time.Millisecond},
			EchoCancel:     true,
			EchoTail:       Duration{200 * time.Millisecond},
			NoiseSuppress:  true,
			DTMFMode:       DTMFAuto,
			HoldStyle:      HoldSendonly,
			RTPTimeout:     Duration{30 * time.Second},
			ICE:            true,
			RTCPMux:        true,
			Encryption:     EncryptionNone,
			RecordTemplate: "{date}-{remote}-{call_id}.wav",
		},
		Calls:   Calls{AutoHold: true, TransferAllow: []string{}},
		NAT:     NAT{ContactRewrite: true, KeepAlive: Duration{25 * time.Second}},
		TLS:     TLS{Verify: true},
		History: History{Enabled: true, Keep: DefaultHistoryKeep},
	}
}

// DefaultAccount returns the values an [[accounts]] entry starts from; keys
// absent from the file keep these.
func DefaultAccount() Account {
	return Account{Register: true, Expires: 300}
}

// DefaultPath returns os.UserConfigDir()/teaphone/config.toml, or "" when the
// user config directory is unknown.
func DefaultPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "teaphone", "config.toml")
}

// DefaultLogFile returns os.UserCacheDir()/teaphone/teaphone.log, or
// "teaphone.log" when the user cache directory is unknown.
func DefaultLogFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "teaphone.log"
	}
	return filepath.Join(dir, "teaphone", "teaphone.log")
}

// LogPath returns LogFile, or [DefaultLogFile] when it is empty.
func (u UI) LogPath() string {
	if u.LogFile != "" {
		return u.LogFile
	}
	return DefaultLogFile()
}

// PortRange returns the RTP port range; call it only on a validated config.
func (m Media) PortRange() (low, high int) {
	if len(m.RTPPorts) != 2 {
		return 0, 0
	}
	return m.RTPPorts[0], m.RTPPorts[1]
}

// File returns the path the configuration was loaded from, "" if none.
func (c Config) File() string { return c.file }

// Duration is a time.Duration written in TOML as a string such as "60s".
type Duration struct {
	time.Duration
}

// UnmarshalText parses a Go duration string such as "60s" or "1m30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("want a duration like \"60s\", got %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.Duration.String()), nil
}
