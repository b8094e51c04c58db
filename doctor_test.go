package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/internal/peertest"
)

func doctorConfig(t *testing.T, registrar string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "teaphone.toml")
	cfg := fmt.Sprintf(`[sip]
listen = "127.0.0.1:0"
transports = ["udp"]

[[accounts]]
name = "alice"
aor = "sip:alice@%s"
registrar = %q
password = "alicepw"

[nat]
keepalive = "1s"
`, registrar, registrar)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDoctor: "teaphone doctor" against the Kamailio registrar on loopback
// prints its report and exits 0; once Kamailio is gone it exits 1 with one
// line naming the problem.
func TestDoctor(t *testing.T) {
	k := peertest.StartKamailio(t, peertest.KamailioConfig{Users: map[string]string{"alice": "alicepw"}})
	cfg := doctorConfig(t, k.Addr())
	log := filepath.Join(t.TempDir(), "doctor.log")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"doctor", "--config", cfg, "--log-file", log, "--idle", "1s"}, &out, &errOut)
	t.Logf("teaphone doctor:\n%s%s", out.String(), errOut.String())
	if code := exitCode(err, &errOut); code != 0 {
		t.Fatalf("exit %d (%v), want 0", code, err)
	}
	for _, want := range []string{"✓ registered at UDP " + k.Addr(), "✓ no NAT", "✓ a request to our own address through the provider reached us"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}

	k.Stop()
	out.Reset()
	errOut.Reset()
	err = run(context.Background(), []string{"doctor", "--config", cfg, "--log-file", log, "--idle", "0", "--timeout", "3s"}, &out, &errOut)
	code := exitCode(err, &errOut)
	t.Logf("teaphone doctor, Kamailio stopped (exit %d):\n%s%s", code, out.String(), errOut.String())
	if code != 1 || !strings.Contains(errOut.String(), "teaphone: nothing answers SIP at UDP "+k.Addr()) || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q: want 1 and one line naming the problem", code, errOut.String())
	}
}
