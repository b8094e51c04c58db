package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
		{Key: "vcs.revision", Value: "278ead5c1f2a0d8e3b1f4c5a6d7e8f9012345678"},
		{Key: "vcs.time", Value: "2026-11-20T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name      string
		bi        *debug.BuildInfo
		linked    string
		portAudio bool
		want      []string
	}{
		{"checkout build", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs}, "", true,
			[]string{"teaphone devel (revision 278ead5c1f2a, modified, 2026-11-20T10:00:00Z)\n", "go1.26.8 linux/arm64\n", "PortAudio: compiled in\n"}},
		{"go install of a release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}, "", false,
			[]string{"teaphone v1.2.0\n", "go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH, "PortAudio: not compiled in"}},
		{"link-time version wins", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}, "v1.3.0-rc1", false,
			[]string{"teaphone v1.3.0-rc1\n"}},
		{"no build information", nil, "", false,
			[]string{"teaphone devel\n", runtime.Version()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromBuildInfo(tt.bi, tt.linked, tt.portAudio).String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("got\n%s\nwant it to contain %q", got, w)
				}
			}
		})
	}
}

func TestReadNamesThisBinary(t *testing.T) {
	in := Read(true)
	if in.Version == "" || in.Go == "" || !in.PortAudio {
		t.Errorf("Read(true) = %+v", in)
	}
}
