package sdp

import "testing"

func TestDirectionString(t *testing.T) {
	tests := []struct {
		d    Direction
		want string
	}{
		{DirectionUnknown, "unknown"},
		{SendRecv, "sendrecv"},
		{SendOnly, "sendonly"},
		{RecvOnly, "recvonly"},
		{Inactive, "inactive"},
		{Direction(42), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("Direction(%d).String() = %q, want %q", int(tt.d), got, tt.want)
		}
		if tt.want == "unknown" {
			continue
		}
		got, err := ParseDirection(tt.want)
		if err != nil || got != tt.d {
			t.Errorf("ParseDirection(%q) = %v, %v; want %v", tt.want, got, err, tt.d)
		}
	}
}

func TestParseDirection(t *testing.T) {
	tests := []struct {
		in      string
		want    Direction
		wantErr bool
	}{
		{"sendrecv", SendRecv, false},
		{"SendOnly", SendOnly, false},
		{"RECVONLY", RecvOnly, false},
		{"inactive", Inactive, false},
		{"", DirectionUnknown, true},
		{"unknown", DirectionUnknown, true},
		{"send", DirectionUnknown, true},
		{"sendrecv ", DirectionUnknown, true},
	}
	for _, tt := range tests {
		got, err := ParseDirection(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseDirection(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDirectionMethods(t *testing.T) {
	tests := []struct {
		d            Direction
		sends, recvs bool
		mirror       Direction
	}{
		{DirectionUnknown, false, false, DirectionUnknown},
		{SendRecv, true, true, SendRecv},
		{SendOnly, true, false, RecvOnly},
		{RecvOnly, false, true, SendOnly},
		{Inactive, false, false, Inactive},
	}
	for _, tt := range tests {
		if got := tt.d.Sends(); got != tt.sends {
			t.Errorf("%v.Sends() = %v", tt.d, got)
		}
		if got := tt.d.Recvs(); got != tt.recvs {
			t.Errorf("%v.Recvs() = %v", tt.d, got)
		}
		if got := tt.d.Mirror(); got != tt.mirror {
			t.Errorf("%v.Mirror() = %v, want %v", tt.d, got, tt.mirror)
		}
		if got := tt.d.Mirror().Mirror(); got != tt.d {
			t.Errorf("%v.Mirror().Mirror() = %v", tt.d, got)
		}
	}
}

func TestDirectionIntersect(t *testing.T) {
	all := []Direction{SendRecv, SendOnly, RecvOnly, Inactive}
	for _, a := range all {
		for _, b := range all {
			got := a.Intersect(b)
			if got.Sends() != (a.Sends() && b.Sends()) || got.Recvs() != (a.Recvs() && b.Recvs()) {
				t.Errorf("%v.Intersect(%v) = %v", a, b, got)
			}
			if got != b.Intersect(a) {
				t.Errorf("Intersect not symmetric for %v, %v", a, b)
			}
		}
		if got := a.Intersect(DirectionUnknown); got != DirectionUnknown {
			t.Errorf("%v.Intersect(unknown) = %v", a, got)
		}
	}
	if got := SendOnly.Intersect(RecvOnly); got != Inactive {
		t.Errorf("sendonly ∩ recvonly = %v, want inactive", got)
	}
}
