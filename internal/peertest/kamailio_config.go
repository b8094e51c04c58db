package peertest

import (
	_ "embed"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// kamailioTemplate is a loopback-only registrar/proxy with digest auth and
// in-memory users (kamailio.cfg.tmpl explains it); its @…@ placeholders,
// @MPATH@ and @DEBUG@ among them, are filled in by StartKamailio.
//
//go:embed kamailio.cfg.tmpl
var kamailioTemplate string

func kamailioModulePath() (string, error) {
	dirs := []string{"/usr/lib/x86_64-linux-gnu/kamailio/modules"}
	more, _ := filepath.Glob("/usr/lib/*/kamailio/modules")
	dirs = append(dirs, more...)
	dirs = append(dirs, "/usr/lib/kamailio/modules", "/usr/local/lib/kamailio/modules")
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "tm.so")); err == nil {
			return d + "/", nil
		}
	}
	return "", fmt.Errorf("peertest: Kamailio modules (tm.so) not found in %v", dirs)
}

// kamailioAddr returns the address Kamailio listens on.
func kamailioAddr(cfg KamailioConfig) netip.Addr {
	if cfg.Addr.IsValid() {
		return cfg.Addr
	}
	return netip.MustParseAddr("127.0.0.1")
}

// kamailioTLS returns the template's TLS parts for cfg (all "off" lines
// without cfg.TLS) and the tls module's own config file's text.
func kamailioTLS(cfg KamailioConfig, tlsPort int, dir string) (global, module, alias, tlsCfg string) {
	if cfg.TLS == nil {
		return "enable_tls=no", "# no TLS", "# no TLS", ""
	}
	global = fmt.Sprintf("enable_tls=yes\nlisten=tls:%s:%d", kamailioAddr(cfg), tlsPort)
	module = fmt.Sprintf("loadmodule \"tls.so\"\nmodparam(\"tls\", \"config\", \"%s/tls.cfg\")", dir)
	alias = "if (proto == TLS) { force_tcp_alias(); }"
	tlsCfg = fmt.Sprintf("[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n"+
		"private_key = %s\ncertificate = %s\n\n"+
		"[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n", cfg.TLS.KeyFile, cfg.TLS.CertFile)
	return global, module, alias, tlsCfg
}

// kamailioConfig fills the template.
func kamailioConfig(cfg KamailioConfig, port, tlsPort int, dir, mpath string) string {
	tlsGlobal, tlsModule, tlsAlias, _ := kamailioTLS(cfg, tlsPort, dir)
	users := make([]string, 0, len(cfg.Users))
	for u := range cfg.Users {
		users = append(users, u)
	}
	sort.Strings(users)
	var ul strings.Builder
	for _, u := range users {
		fmt.Fprintf(&ul, "\tif ($var(user) == \"%s\") { $var(pw) = \"%s\"; }\n", u, cfg.Users[u])
	}
	rr := "$var(no_rr) = 1;"
	if cfg.RecordRoute || cfg.SessionTimer > 0 {
		rr = "record_route();"
	}
	sstModules, sstRoute := "# no session timers", "# no session timers"
	if cfg.SessionTimer > 0 {
		// The dialog module tracks the call; sst sets its lifetime from
		// Session-Expires and inserts the header where it is missing.
		sstModules = strings.Join([]string{
			`loadmodule "dialog.so"`,
			`loadmodule "sst.so"`,
			`modparam("dialog", "dlg_flag", 4)`,
			`modparam("dialog", "timeout_avp", "$avp(dlg_timeout)")`,
			`modparam("sst", "timeout_avp", "$avp(dlg_timeout)")`,
			`modparam("sst", "sst_flag", 5)`,
			`modparam("sst", "reject_to_small", 1)`,
			fmt.Sprintf(`modparam("sst", "min_se", %d)`, cfg.SessionTimer),
		}, "\n")
		// sst's own 422 (sent from its dialog callback) does not stop the
		// script, which relays the INVITE all the same, and its
		// sstCheckMin is true when the request's values are above min_se
		// (both seen with 5.6.3): the script checks the interval itself
		// (RFC 4028 §8.1: only a caller that supports timers gets 422).
		sstRoute = fmt.Sprintf("if (is_method(\"INVITE\") && !has_totag()) {\n"+
			"\t\tif ($hdr(Session-Expires) != $null && $(hdr(Session-Expires){s.int}) < %[1]d && $hdr(Supported) =~ \"timer\") {\n"+
			"\t\t\txlog(\"L_INFO\", \"INVITE: Session-Expires $hdr(Session-Expires) below %[1]d -> 422\\n\");\n"+
			"\t\t\tappend_to_reply(\"Min-SE: %[1]d\\r\\n\");\n"+
			"\t\t\tsl_send_reply(\"422\", \"Session Interval Too Small\");\n"+
			"\t\t\texit;\n\t\t}\n"+
			"\t\tsetflag(4); setflag(5);\n\t}", cfg.SessionTimer)
	}
	initial := "# no extra script for initial requests"
	if cfg.InitialRequest != "" {
		initial = cfg.InitialRequest
	}
	frTimer := 30000
	if cfg.TransactionTimeout > 0 {
		frTimer = int(cfg.TransactionTimeout / time.Millisecond)
	}
	qop, debug := "0", "2"
	if cfg.QOP {
		qop = "1"
	}
	if cfg.Verbose {
		debug = "3"
	}
	var aliases strings.Builder
	for _, d := range cfg.Domains {
		fmt.Fprintf(&aliases, "alias=\"%s\"\n", d)
	}
	return strings.NewReplacer(
		"@ALIASES@", strings.TrimSuffix(aliases.String(), "\n"),
		"@PORT@", strconv.Itoa(port),
		"@ADDR@", kamailioAddr(cfg).String(),
		"@STATE@", dir,
		"@REALM@", kamailioAddr(cfg).String(),
		"@QOPFLAG@", qop,
		"@RR@", rr,
		"@USERS@", strings.TrimSuffix(ul.String(), "\n"),
		"@MPATH@", mpath,
		"@DEBUG@", debug,
		"@SSTMODULES@", sstModules,
		"@SST@", sstRoute,
		"@INITIAL@", initial,
		"@FRTIMER@", strconv.Itoa(frTimer),
		"@TLS@", tlsGlobal,
		"@TLSMODULE@", tlsModule,
		"@TLSALIAS@", tlsAlias,
	).Replace(kamailioTemplate)
}
