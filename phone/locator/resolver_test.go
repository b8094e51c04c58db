package locator

import (
	"errors"
	"strings"
	"testing"
)

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		ok   bool
	}{
		{"defaults", nil, true},
		{"server without port", []Option{WithServers("192.0.2.53")}, true},
		{"IPv6 server with port", []Option{WithServers("[2001:db8::53]:5353")}, true},
		{"server by name", []Option{WithServers("dns.example.test")}, false},
		{"unknown transport", []Option{WithTransports("sctp")}, false},
		{"no transport", []Option{WithTransports()}, false},
		{"bad network", []Option{WithNetwork("tcp")}, false},
		{"zero timeout", []Option{WithTimeout(0)}, false},
	}
	for _, tt := range tests {
		_, err := New(tt.opts...)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
		}
	}
}

func TestDNSServers(t *testing.T) {
	tests := []struct {
		name    string
		conf    string // "" = no file
		want    []string
		wantErr bool
	}{
		{"two servers", "search example.test\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions ndots:2\n", []string{"192.0.2.53:53", "[2001:db8::53]:53"}, false},
		{"no nameserver line: the local resolver", "search example.test\n", []string{"127.0.0.1:53", "[::1]:53"}, false},
		{"a name is not a server", "nameserver dns.example.test\nnameserver 192.0.2.53\n", []string{"192.0.2.53:53"}, false},
		{"no file: the local resolver", "", []string{"127.0.0.1:53", "[::1]:53"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := t.TempDir() + "/resolv.conf"
			if tt.conf != "" {
				if err := writeFile(path, tt.conf); err != nil {
					t.Fatal(err)
				}
			}
			r, err := New(WithResolvConf(path))
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.dnsServers()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
