package main

import (
	"testing"

	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/phone"
)

// TestTransferPolicy: the TUI asks by default, the headless modes refuse,
// "ask" is a usage error there, and the allow-list is passed on.
func TestTransferPolicy(t *testing.T) {
	for _, tc := range []struct {
		set, mode string
		want      phone.TransferMode
		wantErr   bool
	}{
		{"", "tui", phone.TransferAsk, false},
		{"", "answer", phone.TransferNever, false},
		{"always", "answer", phone.TransferAlways, false},
		{"ask", "answer", 0, true},
		{"ask", "dial", 0, true},
	} {
		cfg := config.Default()
		cfg.Calls.AcceptTransfer = tc.set
		cfg.Calls.TransferAllow = []string{"sip:*@pbx.example"}
		got, err := transferPolicy(cfg, tc.mode)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q in %s: err %v, want error %v", tc.set, tc.mode, err, tc.wantErr)
			continue
		}
		if err == nil && (got.Mode != tc.want || len(got.Allow) != 1) {
			t.Errorf("%q in %s: %+v, want mode %s and the allow-list", tc.set, tc.mode, got, tc.want)
		}
	}
}
