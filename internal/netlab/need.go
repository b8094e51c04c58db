//go:build linux

package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// need skips the test when the lab cannot be built here (not root, or a
// program missing), or fails it when the environment variable CI is "true":
// under CI lab tests never skip.
func need(t testing.TB, programs ...string) {
	t.Helper()
	var why string
	if os.Geteuid() != 0 {
		why = "netlab needs root (network namespaces, nftables)"
	} else {
		for _, p := range programs {
			if _, err := exec.LookPath(p); err != nil {
				why = fmt.Sprintf("netlab needs %s: apt-get install --no-install-recommends %s", p, packageOf(p))
				break
			}
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(why + " (CI=true: lab tests are mandatory)")
	}
	t.Skip(why)
}

// packageOf names the Debian package of each program need checks (the
// Makefile's TEST_PKGS installs them).
func packageOf(program string) string {
	switch program {
	case "ip":
		return "iproute2"
	case "nft":
		return "nftables"
	case "dnsmasq":
		return "dnsmasq-base"
	case "turnserver":
		return "coturn"
	default:
		return program
	}
}
