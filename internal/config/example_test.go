package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	toml "github.com/pelletier/go-toml/v2"
)

const examplePath = "../../config.example.toml"

// TestExampleFile decodes config.example.toml strictly, validates it, and
// checks that it shows every key of Config with the default values.
func TestExampleFile(t *testing.T) {
	cfg, err := Load(examplePath)
	if err != nil {
		t.Fatalf("Load(example): %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate(example): %v", err)
	}

	def := Default()
	if !reflect.DeepEqual(cfg.SIP, def.SIP) {
		t.Errorf("example [sip] = %+v, want the defaults %+v", cfg.SIP, def.SIP)
	}
	if !reflect.DeepEqual(cfg.Media, def.Media) {
		t.Errorf("example [media] = %+v, want the defaults %+v", cfg.Media, def.Media)
	}
	if !reflect.DeepEqual(cfg.Calls, def.Calls) {
		t.Errorf("example [calls] = %+v, want the defaults %+v", cfg.Calls, def.Calls)
	}
	if cfg.NAT != def.NAT {
		t.Errorf("example [nat] = %+v, want the defaults %+v", cfg.NAT, def.NAT)
	}
	if cfg.TLS != def.TLS {
		t.Errorf("example [tls] = %+v, want the defaults %+v", cfg.TLS, def.TLS)
	}
	if cfg.UI.LogFile != def.UI.LogFile || len(cfg.UI.Keys) != 0 {
		t.Errorf("example [ui] = %+v, want the defaults %+v", cfg.UI, def.UI)
	}
	if cfg.History != def.History {
		t.Errorf("example [history] = %+v, want the defaults %+v", cfg.History, def.History)
	}
	if cfg.Metrics != def.Metrics {
		t.Errorf("example [metrics] = %+v, want the defaults %+v", cfg.Metrics, def.Metrics)
	}
	if len(cfg.Accounts) == 0 {
		t.Fatal("example has no [[accounts]]")
	}
	da := DefaultAccount()
	if a := cfg.Accounts[0]; a.Register != da.Register || a.Expires != da.Expires {
		t.Errorf("example account register/expires = %v/%d, want the defaults %v/%d", a.Register, a.Expires, da.Register, da.Expires)
	}

	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, missing := range missingKeys(reflect.TypeOf(Config{}), doc, "") {
		if unsetByDefault[missing] && strings.Contains(string(data), "\n# "+strings.TrimPrefix(missing, "sip.")+" = ") {
			continue // shown commented out: its default is to be unset
		}
		t.Errorf("config.example.toml does not show key %q", missing)
	}
}

// unsetByDefault are the keys whose default is to be absent, which the
// example shows commented out.
var unsetByDefault = map[string]bool{"sip.accept_direct": true}

// TestExampleCommented checks that every key line of the example follows a
// comment line, so each setting is explained where it is shown.
func TestExampleCommented(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		if i == 0 || !strings.HasPrefix(lines[i-1], "#") {
			t.Errorf("config.example.toml:%d: %q has no comment line above it", i+1, l)
		}
	}
}

// missingKeys walks t's toml tags and returns the key paths absent from doc.
// Arrays of tables must have an entry showing every key of their element.
func missingKeys(t reflect.Type, doc map[string]any, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := tomlName(f)
		if name == "" {
			continue
		}
		path := joinKey(prefix, name)
		v, ok := doc[name]
		if !ok {
			out = append(out, path)
			continue
		}
		ft := f.Type
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType:
			sub, _ := v.(map[string]any)
			out = append(out, missingKeys(ft, sub, path)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			arr, _ := v.([]any)
			union := map[string]any{}
			for _, e := range arr {
				m, _ := e.(map[string]any)
				for k, x := range m {
					union[k] = x
				}
			}
			out = append(out, missingKeys(ft.Elem(), union, path+"[]")...)
		}
	}
	return out
}

// TestDefaultValid checks that the defaults alone pass Validate.
func TestDefaultValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}
