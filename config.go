package main

import (
	"context"
	"os"
	"time"

	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/phone"
)

// loadConfig reads the configuration: defaults < file < environment < flags,
// then validated.
func loadConfig(c common) (config.Config, error) {
	cfg, err := config.Load(c.config)
	if err != nil {
		return cfg, err
	}
	cfg.ApplyEnv(os.LookupEnv)
	cfg.ApplyOverrides(config.Overrides{Listen: c.listen, Audio: c.audio, RTPPorts: c.rtpPorts, LogFile: c.logFile})
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// phoneAccounts translates the configured accounts for the session core,
// passwords resolved.
func phoneAccounts(ctx context.Context, cfg config.Config) ([]phone.Account, error) {
	var out []phone.Account
	for i, a := range cfg.Accounts {
		pw, err := a.ResolvePassword(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, phone.Account{
			Name: cfg.AccountName(i), AOR: a.AOR, DisplayName: a.DisplayName,
			Registrar: a.Registrar, OutboundProxy: a.OutboundProxy,
			Username: a.AuthUsername(), Password: pw, Register: a.Register,
			Expires: time.Duration(a.Expires) * time.Second,
		})
	}
	return out, nil
}
