package config

import "testing"

func TestAccountDerived(t *testing.T) {
	tests := []struct {
		name                     string
		acc                      Account
		user, registrar, outProx string
	}{
		{"defaults from AOR", Account{AOR: "sip:alice@pbx.example.com"}, "alice", "sip:pbx.example.com", ""},
		{"AOR with port and params", Account{AOR: "sips:bob@pbx.example.com:5061;transport=tls"}, "bob", "sips:pbx.example.com:5061", ""},
		{"IPv6 AOR", Account{AOR: "sip:c@[2001:db8::1]"}, "c", "sip:[2001:db8::1]", ""},
		{"explicit", Account{AOR: "sip:alice@x", Username: "a123", Registrar: "reg.example:5070", OutboundProxy: "10.0.0.1:5060"},
			"a123", "sip:reg.example:5070", "sip:10.0.0.1:5060"},
		{"URIs kept", Account{AOR: "sips:alice@x", Registrar: "sip:reg.example;transport=tcp", OutboundProxy: "sips:edge.example"},
			"alice", "sip:reg.example;transport=tcp", "sips:edge.example"},
		{"sips AOR makes sips targets", Account{AOR: "sips:alice@x", Registrar: "reg.example"}, "alice", "sips:reg.example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.acc
			if got := a.AuthUsername(); got != tt.user {
				t.Errorf("AuthUsername = %q, want %q", got, tt.user)
			}
			if got := a.RegistrarURI(); got != tt.registrar {
				t.Errorf("RegistrarURI = %q, want %q", got, tt.registrar)
			}
			if got := a.OutboundProxyURI(); got != tt.outProx {
				t.Errorf("OutboundProxyURI = %q, want %q", got, tt.outProx)
			}
		})
	}
}

func TestAccountName(t *testing.T) {
	c := Default()
	c.Accounts = []Account{{AOR: "sip:alice@x"}}
	if got := c.AccountName(0); got != "account1" {
		t.Errorf("unnamed account: %q, want account1", got)
	}
	c.Accounts = []Account{{Name: "work", AOR: "sip:alice@x"}, {Name: "home", AOR: "sip:alice@y"}}
	if got := c.AccountName(1); got != "home" {
		t.Errorf("named account: %q, want home", got)
	}
}
