package device

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// noCard is a SoundCard on a machine without one.
func noCard() (Device, error) {
	return nil, fmt.Errorf("no audio output device found: %w", ErrNoSoundCard)
}

func TestChoose(t *testing.T) {
	card := NewNull() // stands for an opened sound card
	tests := []struct {
		name         string
		spec         string
		explicit     bool
		open         SoundCard
		wantCard     bool // the card's device
		wantFallback bool // the null device in its place
		wantErr      string
	}{
		{"the sound card", "", false, func() (Device, error) { return card, nil }, true, false, ""},
		{"named portaudio", "portaudio", true, func() (Device, error) { return card, nil }, true, false, ""},
		{"no sound card: audio off", "", false, noCard, false, true, ""},
		{"no sound card, the default spelled out", "portaudio", false, noCard, false, true, ""},
		{"no sound card but asked for: an error", "portaudio", true, noCard, false, false, "no audio output device found: no sound card"},
		{"a named device missing is an error", "", false, func() (Device, error) { return nil, errors.New(`no output device matching "USB"`) }, false, false, `no output device matching "USB"`},
		{"null needs no card", "null", true, nil, false, false, ""},
		{"bad spec", "tone:x", false, nil, false, false, `want tone:HZ`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Choose(tt.spec, tt.explicit, tt.open)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Choose: %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Choose: %v", err)
			}
			defer c.Device.Close()
			if got := c.Device == card; got != tt.wantCard {
				t.Errorf("got the sound card: %v, want %v", got, tt.wantCard)
			}
			if got := c.Fallback != nil; got != tt.wantFallback {
				t.Errorf("fallback %v, want one: %v", c.Fallback, tt.wantFallback)
			}
			if c.Fallback != nil && !errors.Is(c.Fallback, ErrNoSoundCard) {
				t.Errorf("fallback %v does not match ErrNoSoundCard", c.Fallback)
			}
		})
	}
}
