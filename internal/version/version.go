// Package version tells which teaphone a binary is: its version, the VCS
// revision it was built from, the Go version that built it, and whether the
// PortAudio sound-card backend is compiled in ("teaphone version").
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the release version, set at link time:
//
//	go build -ldflags "-X github.com/teaphone/teaphone/internal/version.Version=v1.2.0"
//
// (make build sets it from git describe). Empty: the module version from
// the build information, else "devel".
var Version = ""

// Info describes one build.
type Info struct {
	Version   string // "v1.2.0", or "devel" for a build of a checkout without one
	Revision  string // VCS revision; "" when not recorded (-buildvcs=false)
	Time      string // commit time of Revision (RFC 3339), or ""
	Modified  bool   // the checkout had uncommitted changes
	Go        string // the Go version that built the binary, e.g. "go1.26.8"
	Platform  string // GOOS/GOARCH
	PortAudio bool   // the sound-card backend is compiled in
}

// Read returns this binary's Info. portAudio says whether the PortAudio
// backend is compiled in: only main imports it (audio/portaudio.Available).
func Read(portAudio bool) Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi, Version, portAudio)
}

// fromBuildInfo builds the Info from the build information (nil when the
// binary has none) and the link-time version.
func fromBuildInfo(bi *debug.BuildInfo, linked string, portAudio bool) Info {
	in := Info{Version: linked, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, PortAudio: portAudio}
	if bi == nil {
		if in.Version == "" {
			in.Version = "devel"
		}
		return in
	}
	if bi.GoVersion != "" {
		in.Go = bi.GoVersion
	}
	if v := bi.Main.Version; in.Version == "" && v != "" && v != "(devel)" {
		in.Version = v
	}
	if in.Version == "" {
		in.Version = "devel"
	}
	goos, goarch := runtime.GOOS, runtime.GOARCH
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	in.Platform = goos + "/" + goarch
	return in
}

// String renders the Info as "teaphone version" prints it: the version and
// revision, the Go version and platform, and the PortAudio support.
func (in Info) String() string {
	var b strings.Builder
	b.WriteString("teaphone " + in.Version)
	var rev []string
	if in.Revision != "" {
		r := in.Revision
		if len(r) > 12 {
			r = r[:12]
		}
		rev = append(rev, "revision "+r)
	}
	if in.Modified {
		rev = append(rev, "modified")
	}
	if in.Time != "" {
		rev = append(rev, in.Time)
	}
	if len(rev) > 0 {
		b.WriteString(" (" + strings.Join(rev, ", ") + ")")
	}
	fmt.Fprintf(&b, "\n%s %s\n", in.Go, in.Platform)
	if in.PortAudio {
		b.WriteString("PortAudio: compiled in\n")
	} else {
		b.WriteString("PortAudio: not compiled in (built with CGO_ENABLED=0 or -tags noportaudio): --audio null, tone:HZ or file:PATH only\n")
	}
	return b.String()
}
