package main

import (
	"context"
	"fmt"
	"log/slog"
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
	cfg.ApplyOverrides(config.Overrides{Listen: c.listen, Audio: c.audio, RTPPorts: c.rtpPorts, LogFile: c.logFile, Metrics: c.metrics})
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
		pa := phone.Account{
			Name: cfg.AccountName(i), AOR: a.AOR, DisplayName: a.DisplayName,
			Registrar: a.Registrar, OutboundProxy: a.OutboundProxy,
			Username: a.AuthUsername(), Password: pw, Register: a.Register,
			Expires:          time.Duration(a.Expires) * time.Second,
			Encryption:       phone.Encryption(a.MediaEncryption),
			TLSNoVerify:      a.TLS.NoVerify(),
			MailboxSubscribe: a.MailboxSubscribe, Mailbox: a.Voicemail,
		}
		if a.TLS.CAFile != "" {
			if pa.TLSRootCAs, err = config.RootCAs(a.TLS.CAFile); err != nil {
				return nil, fmt.Errorf("account %s: %w", pa.Name, err)
			}
		}
		out = append(out, pa)
	}
	return out, nil
}

// phoneTLS is the phone's TLS options as cfg's [tls] describes them.
func phoneTLS(cfg config.Config) (phone.TLSOptions, error) {
	roots, err := config.RootCAs(cfg.TLS.CAFile)
	if err != nil {
		return phone.TLSOptions{}, err
	}
	cert, err := cfg.TLS.ClientCertificate()
	if err != nil {
		return phone.TLSOptions{}, err
	}
	return phone.TLSOptions{RootCAs: roots, Certificate: cert, NoVerify: !cfg.TLS.Verify}, nil
}

// transferPolicy is the phone's TransferPolicy as cfg's [calls] describes
// it for mode ("tui", "answer", "dial"). The headless modes cannot ask: "ask"
// there is a usage error.
func transferPolicy(cfg config.Config, mode string) (phone.TransferPolicy, error) {
	name := cfg.Calls.TransferMode(mode)
	if name == config.TransferAsk && mode != "tui" {
		return phone.TransferPolicy{}, fmt.Errorf("calls.accept_transfer = %q needs the terminal UI to ask; %s mode takes \"always\" or \"never\" (with calls.transfer_allow)", name, mode)
	}
	m, err := phone.ParseTransferMode(name)
	if err != nil {
		return phone.TransferPolicy{}, fmt.Errorf("calls.accept_transfer: %w", err)
	}
	return phone.TransferPolicy{Mode: m, Allow: cfg.Calls.TransferAllow}, nil
}

// phoneOptions are the phone's options as cfg describes them, without a
// Handler or Audio (the caller's to give).
func phoneOptions(cfg config.Config, accounts []phone.Account, logger *slog.Logger) (phone.Options, error) {
	tlsOpts, err := phoneTLS(cfg)
	if err != nil {
		return phone.Options{}, err
	}
	low, high := cfg.Media.PortRange()
	return phone.Options{
		Listen:         cfg.SIP.Listen,
		Transports:     cfg.SIP.Transports,
		Accounts:       accounts,
		RTPPortMin:     low,
		RTPPortMax:     high,
		Codecs:         cfg.Media.Codecs,
		UserAgent:      cfg.SIP.UserAgent,
		Logger:         logger.With("component", "phone"),
		DeferTimeout:   cfg.SIP.DeferTimeout.Duration,
		MaxCalls:       cfg.SIP.MaxCalls,
		DTMFInfo:       cfg.Media.DTMFMode == config.DTMFInfo,
		HoldC0:         cfg.Media.HoldStyle == config.HoldC0,
		ICE:            cfg.Media.ICE,
		NoRTCPMux:      !cfg.Media.RTCPMux,
		Encryption:     phone.Encryption(cfg.Media.Encryption),
		RTPTimeout:     cfg.Media.RTPTimeout.Duration,
		NAT:            phone.NATOptions{ContactRewrite: cfg.NAT.ContactRewrite, KeepAlive: cfg.NAT.KeepAlive.Duration, STUNServer: cfg.NAT.STUNServer},
		DNSServers:     cfg.SIP.DNSServers,
		SessionExpires: cfg.SIP.SessionExpires.Duration,
		MinSE:          cfg.SIP.MinSE.Duration,
		TLS:            tlsOpts,
		ListenTLS:      cfg.SIP.ListenTLS,
		Direct:         directCalls(cfg.SIP),
		ForeignURICode: cfg.SIP.ForeignURICode,
		NewCallRate:    float64(cfg.SIP.NewCallRate),
		NewCallBurst:   2 * cfg.SIP.NewCallRate,
	}, nil
}
