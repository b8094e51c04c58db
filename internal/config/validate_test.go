package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateErrors(t *testing.T) {
	const acct = "[[accounts]]\naor = \"sip:alice@pbx.example.com\"\n"
	tests := []struct {
		name    string
		content string
		want    []string // substrings; a leading "@" stands for the file path
	}{
		{"aor without scheme", "[[accounts]]\nname = \"w\"\naor = \"alice@x\"\n",
			[]string{`@:3: accounts[0].aor: want a sip: or sips: URI with a user, got "alice@x"`}},
		{"aor without user", "[[accounts]]\naor = \"sip:pbx.example.com\"\n",
			[]string{`@:2: accounts[0].aor: want a sip: or sips: URI with a user, got "sip:pbx.example.com"`}},
		{"aor missing points at the table", "[sip]\n\n[[accounts]]\nname = \"w\"\n",
			[]string{`@:3: accounts[0].aor: required`}},
		{"aor bad port", "[[accounts]]\naor = \"sip:a@x:99999\"\n",
			[]string{`@:2: accounts[0].aor:`, `port "99999"`}},
		{"rtp odd low", "[media]\nrtp_ports = [10001, 20000]\n",
			[]string{`@:2: media.rtp_ports: want an even low port`}},
		{"rtp low >= high", "[media]\nrtp_ports = [20000, 10000]\n",
			[]string{`@:2: media.rtp_ports: want low < high, got 20000-10000`}},
		{"rtp out of range", "[media]\nrtp_ports = [80, 20000]\n",
			[]string{`@:2: media.rtp_ports: want ports within 1024..65535`}},
		{"rtp three numbers", "[media]\nrtp_ports = [10000, 20000, 30000]\n",
			[]string{`@:2: media.rtp_ports: want [low, high], got 3 numbers`}},
		{"audio unknown", "[media]\naudio = \"alsa\"\n",
			[]string{`@:2: media.audio: want "portaudio", "null", "tone:HZ" or "file:PATH", got "alsa"`}},
		{"audio tone too low", "[media]\naudio = \"tone:5\"\n",
			[]string{`@:2: media.audio: want tone:HZ with HZ a number in 20..20000, got "tone:5"`}},
		{"audio tone not a number", "[media]\naudio = \"tone:la\"\n",
			[]string{`media.audio: want tone:HZ`}},
		{"audio file without path", "[media]\naudio = \"file:\"\n",
			[]string{`@:2: media.audio: want file:PATH with a non-empty path`}},
		{"CRLF in display_name", acct + "display_name = \"Alice\\r\\nX-Evil: 1\"\n",
			[]string{`@:3: accounts[0].display_name: must not contain CR, LF or other control characters (found U+000D), got "Alice\r\nX-Evil: 1"`}},
		{"LF in user_agent", "[sip]\nuser_agent = \"\"\"tea\nphone\"\"\"\n",
			[]string{`@:2: sip.user_agent: must not contain CR, LF`}},
		{"NUL in username", acct + "username = \"al\\u0000ice\"\n",
			[]string{`@:3: accounts[0].username: must not contain CR, LF or other control characters (found U+0000)`}},
		{"CR in aor", "[[accounts]]\naor = \"sip:a@x\\r\\nVia: evil\"\n",
			[]string{`@:2: accounts[0].aor: must not contain CR, LF`}},
		{"control char in contact", "[[contacts]]\nname = \"B\\u0085ob\"\nuri = \"sip:b@x\"\n",
			[]string{`@:2: contacts[0].name: must not contain`}},
		{"duplicate account names",
			"[[accounts]]\nname = \"work\"\naor = \"sip:a@x\"\n[[accounts]]\nname = \"work\"\naor = \"sip:b@x\"\n",
			[]string{`@:5: accounts[1].name: "work" is already the name of accounts[0]`}},
		{"name required with two accounts",
			"[[accounts]]\naor = \"sip:a@x\"\n[[accounts]]\nname = \"b\"\naor = \"sip:b@x\"\n",
			[]string{`@:1: accounts[0].name: required when there is more than one account`}},
		{"expires too small", acct + "expires = 5\n",
			[]string{`@:3: accounts[0].expires: want 10..86400 seconds, got 5`}},
		{"registrar bad", acct + "registrar = \"http://pbx\"\n",
			[]string{`@:3: accounts[0].registrar: want host:port or a sip:/sips: URI, got "http://pbx"`}},
		{"outbound proxy bad port", acct + "outbound_proxy = \"proxy:0\"\n",
			[]string{`@:3: accounts[0].outbound_proxy: want host:port`}},
		{"voicemail not a sip URI", acct + "voicemail = \"*97\"\n",
			[]string{`@:3: accounts[0].voicemail: want a sip: or sips: URI like "sip:*97@pbx.example.com", got "*97"`}},
		{"password_env bad name", acct + "password_env = \"MY-PASS\"\n",
			[]string{`@:3: accounts[0].password_env: want an environment variable name`}},
		{"listen without port", "[sip]\nlisten = \"0.0.0.0\"\n",
			[]string{`@:2: sip.listen: want host:port`}},
		{"listen bad port", "[sip]\nlisten = \":70000\"\n",
			[]string{`@:2: sip.listen: port "70000" is not a number in 0..65535`}},
		{"metrics listen without port", "[ui]\nlog_file = \"x\"\n\n[metrics]\nlisten = \"127.0.0.1\"\n",
			[]string{`@:5: metrics.listen: want host:port such as "127.0.0.1:9464", or a port, got "127.0.0.1"`}},
		{"metrics listen bad port", "[metrics]\nlisten = \":99999\"\n",
			[]string{`@:2: metrics.listen: port "99999" is not a number in 0..65535`}},
		{"transport unknown", "[sip]\ntransports = [\"udp\", \"sctp\"]\n",
			[]string{`@:2: sip.transports[1]: want "udp" or "tcp", got "sctp"`}},
		{"transports empty", "[sip]\ntransports = []\n",
			[]string{`@:2: sip.transports: want at least one`}},
		{"max_calls zero", "[sip]\nmax_calls = 0\n",
			[]string{`@:2: sip.max_calls: want 1..2000, got 0`}},
		{"max_calls above the ceiling", "[sip]\nmax_calls = 2001\n",
			[]string{`@:2: sip.max_calls: want 1..2000, got 2001`}},
		{"defer_timeout zero", "[sip]\ndefer_timeout = \"0s\"\n",
			[]string{`@:2: sip.defer_timeout: want 1s..1h, got 0s`}},
		{"history keep not a duration", "[history]\nkeep = \"a year\"\n",
			[]string{`@:2: history.keep: want a duration like "365d" or "720h", or "0" to keep every call, got "a year"`}},
		{"history keep bad days", "[history]\n\nkeep = \"-3d\"\n",
			[]string{`@:3: history.keep: want days like "365d"`}},
		{"history keep too short", "[history]\nkeep = \"10m\"\n",
			[]string{`@:2: history.keep: want 0 (keep every call) or at least 1h, got 10m`}},
		{"keepalive too short", "[nat]\nkeepalive = \"500ms\"\n",
			[]string{`@:2: nat.keepalive: want 0 (none) or 1s..10m, got 500ms`}},
		{"stun server bad port", "[nat]\nstun_server = \"stun.example.org:99999\"\n",
			[]string{`@:2: nat.stun_server: want host or host:port, got "stun.example.org:99999"`}},
		{"min_se below RFC 4028's 90s", "[sip]\nmin_se = \"30s\"\n",
			[]string{`@:2: sip.min_se: want 90s..24h (RFC 4028), got 30s`}},
		{"session_expires below min_se", "[sip]\nsession_expires = \"60s\"\n",
			[]string{`@:2: sip.session_expires: want 0 (none) or min_se (1m30s)..24h, got 1m0s`}},
		{"keepalive negative", "[nat]\ncontact_rewrite = true\nkeepalive = \"-25s\"\n",
			[]string{`@:3: nat.keepalive: want 0 (none) or 1s..10m, got -25s`}},
		{"rtp_timeout too short", "[media]\nrtp_timeout = \"100ms\"\n",
			[]string{`@:2: media.rtp_timeout: want 0 (never) or 1s..1h, got 100ms`}},
		{"audio_latency too low", "[media]\naudio_latency = \"5ms\"\n",
			[]string{`@:2: media.audio_latency: want 20ms..500ms, got 5ms`}},
		{"echo_tail too short", "[media]\necho_cancel = true\necho_tail = \"10ms\"\n",
			[]string{`@:3: media.echo_tail: want 20ms..1s, got 10ms`}},
		{"echo_tail too long", "[media]\necho_tail = \"2s\"\n",
			[]string{`@:2: media.echo_tail: want 20ms..1s, got 2s`}},
		{"codec unknown on its own line", "[media]\ncodecs = [\n  \"PCMU\",\n  \"G729\",\n]\n",
			[]string{`@:4: media.codecs[1]: want "opus", "G722", "PCMU" or "PCMA", got "G729"`}},
		{"codec twice", "[media]\ncodecs = [\"PCMA\", \"PCMA\"]\n",
			[]string{`@:2: media.codecs[1]: "PCMA" is listed twice`}},
		{"codecs empty", "[media]\ncodecs = []\n",
			[]string{`@:2: media.codecs: want at least one`}},
		{"dtmf mode", "[media]\ndtmf_mode = \"inband\"\n",
			[]string{`@:2: media.dtmf_mode: want "auto", "rfc4733" or "info", got "inband"`}},
		{"encryption", "[media]\nencryption = \"dtls\"\n",
			[]string{`@:2: media.encryption: want "none", "srtp-optional", "srtp-mandatory" or "dtls-srtp", got "dtls"`}},
		{"account encryption", "[[accounts]]\naor = \"sip:a@x\"\nmedia_encryption = \"srtp\"\n",
			[]string{`@:3: accounts[0].media_encryption: want "" (media.encryption), "none", "srtp-optional", "srtp-mandatory" or "dtls-srtp", got "srtp"`}},
		{"hold style", "[media]\nhold_style = \"inactive\"\n",
			[]string{`@:2: media.hold_style: want "sendonly" or "c0", got "inactive"`}},
		{"record template empty", "[media]\nrecord_template = \"\"\n",
			[]string{`@:2: media.record_template: must not be empty`}},
		{"unknown key action", "[ui.keys]\nanswer = [\"a\"]\nanwser = [\"b\"]\n",
			[]string{`@:3: ui.keys.anwser: unknown action "anwser"`}},
		{"contact uri", "[[contacts]]\nname = \"Bob\"\nuri = \"bob\"\n",
			[]string{`@:3: contacts[0].uri: want a sip: or sips: URI, got "bob"`}},
		{"contact uri missing", "[[contacts]]\nname = \"Bob\"\n",
			[]string{`@:1: contacts[0].uri: required`}},
		{"accept_transfer unknown", "[calls]\nauto_hold = true\naccept_transfer = \"sometimes\"\n",
			[]string{`@:3: calls.accept_transfer: want "always", "ask" or "never", got "sometimes"`}},
		{"transfer_allow without scheme", "[calls]\ntransfer_allow = [\n  \"sip:*@pbx.example\",\n  \"*@pbx.example\",\n]\n",
			[]string{`@:4: calls.transfer_allow[1]: want a glob of sip: or sips: URIs`}},
		{"transfer_allow bad glob", "[calls]\ntransfer_allow = [\"sip:[*@pbx\"]\n",
			[]string{`@:2: calls.transfer_allow[0]: bad glob "sip:[*@pbx"`}},
		{"several errors are all reported",
			"[sip]\nmax_calls = 0\n[media]\ndtmf_mode = \"x\"\nhold_style = \"y\"\n",
			[]string{`@:2: sip.max_calls`, `@:4: media.dtmf_mode`, `@:5: media.hold_style`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			cfg, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			err = cfg.Validate()
			if err == nil {
				t.Fatal("Validate: want an error, got nil")
			}
			for _, w := range tt.want {
				if strings.HasPrefix(w, "@") {
					w = path + w[1:]
				}
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nwant it to contain\n%s", err, w)
				}
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key == "" || ce.Line == 0 {
				t.Errorf("errors.As(*Error) = %+v, want a key and a line", ce)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct{ name, content string }{
		{"empty file", ""},
		{"no account", "[sip]\nlisten = \":5060\"\n"},
		{"account not registering", "[[accounts]]\naor = \"sip:alice@x.example\"\nregister = false\n"},
		{"one account needs no name", "[[accounts]]\naor = \"sips:alice@x.example:5061;transport=tcp\"\n"},
		{"registrar forms", "[[accounts]]\nname = \"a\"\naor = \"sip:a@x\"\nregistrar = \"sip:pbx.example.com;transport=tcp\"\n" +
			"[[accounts]]\nname = \"b\"\naor = \"sip:b@x\"\nregistrar = \"[2001:db8::1]:5060\"\noutbound_proxy = \"proxy.example\"\n" +
			"[[accounts]]\nname = \"c\"\naor = \"sip:c@x\"\nregistrar = \"10.0.0.1:5070\"\noutbound_proxy = \"SIPS:edge.example:5061\"\n"},
		{"srtp", "[media]\nencryption = \"srtp-optional\"\n[[accounts]]\naor = \"sip:a@x\"\nmedia_encryption = \"srtp-mandatory\"\n"},
		{"dtls-srtp", "[media]\nencryption = \"dtls-srtp\"\n[[accounts]]\naor = \"sip:a@x\"\nmedia_encryption = \"dtls-srtp\"\n"},
		{"mailbox", "[[accounts]]\naor = \"sip:a@x\"\nvoicemail = \"sip:*97@pbx.example\"\nmailbox_subscribe = true\n"},
		{"listen forms", "[sip]\nlisten = \"[::1]:0\"\n"},
		{"listen hostname", "[sip]\nlisten = \"localhost:5080\"\n"},
		{"metrics forms", "[metrics]\nlisten = \"9464\"\n"},
		{"metrics everywhere", "[metrics]\nlisten = \"0.0.0.0:9464\"\n"},
		{"metrics ipv6", "[metrics]\nlisten = \"[::1]:9464\"\n"},
		{"tone and file audio", "[media]\naudio = \"tone:440.5\"\n"},
		{"file audio", "[media]\naudio = \"file:/tmp/in put.wav\"\n"},
		{"null audio, one codec, c0", "[media]\naudio = \"null\"\ncodecs = [\"PCMA\"]\nhold_style = \"c0\"\ndtmf_mode = \"info\"\n"},
		{"all key actions", "[ui.keys]\n" + func() string {
			var b strings.Builder
			for _, a := range KeyActions() {
				b.WriteString(a + " = [\"x\"]\n")
			}
			return b.String()
		}()},
		{"log pane key", "[ui.keys]\nlog = [\"L\"]\n"},
		{"history kept forever", "[history]\nkeep = \"0\"\n"},
		{"history kept 30 days", "[history]\nkeep = \"30d\"\n"},
		{"history kept 720h", "[history]\nkeep = \"720h\"\n"},
		{"unicode display name", "[[accounts]]\naor = \"sip:a@x\"\ndisplay_name = \"Zoë Ōkubo\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(writeConfig(t, tt.content))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestParseAudio(t *testing.T) {
	tests := []struct {
		in      string
		want    AudioSpec
		wantErr bool
	}{
		{"portaudio", AudioSpec{Kind: AudioPortAudio}, false},
		{"null", AudioSpec{Kind: AudioNull}, false},
		{"tone:440", AudioSpec{Kind: AudioTone, ToneHz: 440}, false},
		{"tone:20", AudioSpec{Kind: AudioTone, ToneHz: 20}, false},
		{"tone:4000", AudioSpec{Kind: AudioTone, ToneHz: 4000}, false},
		{"tone:20000.1", AudioSpec{}, true},
		{"tone:6000", AudioSpec{Kind: AudioTone, ToneHz: 6000}, false},
		{"tone:NaN", AudioSpec{}, true},
		{"tone:", AudioSpec{}, true},
		{"tone", AudioSpec{}, true},
		{"file:a:b.wav", AudioSpec{Kind: AudioFile, Path: "a:b.wav"}, false},
		{"file:", AudioSpec{}, true},
		{"null:x", AudioSpec{}, true},
		{"", AudioSpec{}, true},
		{"PortAudio", AudioSpec{}, true},
	}
	for _, tt := range tests {
		got, err := ParseAudio(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseAudio(%q) = %+v, %v; want %+v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestParseSIPURI checks what config adds to sipaddr.ParseURI (tested
// there): a sip: or sips: scheme is required.
func TestParseSIPURI(t *testing.T) {
	type parts struct {
		scheme, user, host string
		port               int
	}
	tests := []struct {
		in      string
		want    parts
		wantErr bool
	}{
		{"sip:alice@pbx.example.com", parts{"sip", "alice", "pbx.example.com", 0}, false},
		{"SIPS:alice:secret@pbx.example.com:5061;transport=tls?subject=x", parts{"sips", "alice", "pbx.example.com", 5061}, false},
		{"sip:+15551234@[2001:db8::1]:5060", parts{"sip", "+15551234", "2001:db8::1", 5060}, false},
		{"sip:pbx.example.com", parts{"sip", "", "pbx.example.com", 0}, false},
		{"sip:10.0.0.1:5070", parts{"sip", "", "10.0.0.1", 5070}, false},
		{"sip:@x", parts{}, true},
		{"sip:a@x:0", parts{}, true},
		{"sip:a@x\r\n", parts{}, true},
		{"tel:+1555", parts{}, true},
		{"alice@x", parts{}, true},
		{"sip:a@[1.2.3.4]", parts{}, true},
		{"sip:a@x..y", parts{}, true},
	}
	for _, tt := range tests {
		u, err := parseSIPURI(tt.in)
		got := parts{u.Scheme, u.User, u.Host, u.Port}
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("parseSIPURI(%q) = %+v, %v; want %+v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestValidateReportsAll(t *testing.T) {
	// Print a realistic multi-error report once, for eyeballing with -v.
	cfg, err := Load(writeConfig(t, "[sip]\nlisten = \"x\"\n[[accounts]]\naor = \"alice\"\ndisplay_name = \"A\\nB\"\n[media]\naudio = \"tone:1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 4 {
		t.Errorf("got %d errors, want 4:\n%v", n, err)
	}
	t.Logf("\n%v", err)
}

func TestValidateDNSServers(t *testing.T) {
	for _, tc := range []struct {
		servers []string
		bad     string
	}{
		{[]string{"192.0.2.53", "192.0.2.54:5353", "[2001:db8::1]:53", "2001:db8::2"}, ""},
		{[]string{"192.0.2.53", "dns.example.com"}, "sip.dns_servers[1]"},
		{[]string{"192.0.2.53:0"}, "sip.dns_servers[0]"},
	} {
		c := Default()
		c.SIP.DNSServers = tc.servers
		err := c.Validate()
		if tc.bad == "" && err != nil {
			t.Errorf("%v: %v", tc.servers, err)
		}
		if tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)) {
			t.Errorf("%v: %v, want an error naming %s", tc.servers, err, tc.bad)
		}
	}
}

// TestValidateTLS: the [tls] files must exist and parse; each problem names
// its key.
func TestValidateTLS(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		set  func(c *Config)
		want string
	}{
		{"missing ca_file", func(c *Config) { c.TLS.CAFile = filepath.Join(dir, "nope.pem") }, "tls.ca_file: open "},
		{"ca_file not PEM", func(c *Config) { c.TLS.CAFile = notPEM }, "tls.ca_file: " + notPEM + " holds no PEM certificate"},
		{"cert without key", func(c *Config) { c.TLS.CertFile = notPEM }, "tls.key_file: required with tls.cert_file"},
		{"key without cert", func(c *Config) { c.TLS.KeyFile = notPEM }, "tls.cert_file: required with tls.key_file"},
		{"cert not PEM", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = notPEM, notPEM }, "tls.cert_file: "},
		{"listen_tls without a certificate", func(c *Config) { c.SIP.ListenTLS = "127.0.0.1:5061" }, "sip.listen_tls: a TLS listener needs tls.cert_file"},
		{"listen_tls bad", func(c *Config) { c.SIP.ListenTLS = "5061" }, "sip.listen_tls: want host:port"},
		{"account ca_file", func(c *Config) {
			c.Accounts = []Account{{AOR: "sips:a@example.com", Register: true, Expires: 300, TLS: AccountTLS{CAFile: notPEM}}}
		}, "accounts[0].tls.ca_file: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.set(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestTransferModeDefault: "" asks in the terminal UI and refuses in the
// headless modes, which have nobody to ask.
func TestTransferModeDefault(t *testing.T) {
	for _, tc := range []struct{ set, mode, want string }{
		{"", "tui", TransferAsk},
		{"", "answer", TransferNever},
		{"", "dial", TransferNever},
		{TransferAlways, "answer", TransferAlways},
		{TransferNever, "tui", TransferNever},
	} {
		if got := (Calls{AcceptTransfer: tc.set}).TransferMode(tc.mode); got != tc.want {
			t.Errorf("accept_transfer %q in %s: %q, want %q", tc.set, tc.mode, got, tc.want)
		}
	}
}

func TestParseKeep(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 365 * day, true}, {"0", 0, true}, {"365d", 365 * day, true}, {"1d", day, true},
		{"720h", 720 * time.Hour, true}, {"0d", 0, true}, {"x", 0, false}, {"1.5d", 0, false}, {"-1h", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseKeep(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseKeep(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if d := Default().History.KeepDuration(); d != 365*day {
		t.Errorf("default keep = %v, want 365 days", d)
	}
}
