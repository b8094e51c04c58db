package phone

import (
	"errors"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestTransferPolicyDecide(t *testing.T) {
	pbx := []string{"sip:*@pbx.example", "sips:reception@pbx.example:5061"}
	cases := []struct {
		name   string
		policy TransferPolicy
		target string
		want   transferVerdict
	}{
		{"zero value refuses", TransferPolicy{}, "sip:carol@pbx.example", verdictRefuse},
		{"never", TransferPolicy{Mode: TransferNever}, "sip:carol@pbx.example", verdictRefuse},
		{"ask", TransferPolicy{Mode: TransferAsk}, "sip:carol@elsewhere.example", verdictAsk},
		{"always", TransferPolicy{Mode: TransferAlways}, "sip:carol@elsewhere.example", verdictFollow},
		{"never, allowed", TransferPolicy{Mode: TransferNever, Allow: pbx}, "sip:carol@pbx.example", verdictFollow},
		{"never, not allowed", TransferPolicy{Mode: TransferNever, Allow: pbx}, "sip:carol@evil.example", verdictRefuse},
		{"never, allowed host is a suffix only", TransferPolicy{Mode: TransferNever, Allow: pbx}, "sip:carol@pbx.example.evil.example", verdictRefuse},
		{"never, port not in the glob", TransferPolicy{Mode: TransferNever, Allow: pbx}, "sip:carol@pbx.example:5070", verdictRefuse},
		{"never, params ignored", TransferPolicy{Mode: TransferNever, Allow: pbx}, "sip:carol@pbx.example;transport=tcp", verdictFollow},
		{"never, case folded", TransferPolicy{Mode: TransferNever, Allow: pbx}, "SIP:Carol@PBX.example", verdictFollow},
		{"never, sips glob with port", TransferPolicy{Mode: TransferNever, Allow: pbx}, "sips:reception@pbx.example:5061", verdictFollow},
		{"never, scheme matters", TransferPolicy{Mode: TransferNever, Allow: pbx}, "sips:carol@pbx.example", verdictRefuse},
		{"ask, allowed", TransferPolicy{Mode: TransferAsk, Allow: pbx}, "sip:carol@pbx.example", verdictFollow},
		{"ask, not allowed", TransferPolicy{Mode: TransferAsk, Allow: pbx}, "sip:carol@evil.example", verdictAsk},
		{"always, allowed", TransferPolicy{Mode: TransferAlways, Allow: pbx}, "sip:carol@pbx.example", verdictFollow},
		{"always, not allowed", TransferPolicy{Mode: TransferAlways, Allow: pbx}, "sip:carol@evil.example", verdictRefuse},
		{"bad glob matches nothing", TransferPolicy{Mode: TransferNever, Allow: []string{"sip:[@pbx"}}, "sip:carol@pbx", verdictRefuse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var u sip.Uri
			if err := sip.ParseUri(tc.target, &u); err != nil {
				t.Fatal(err)
			}
			if got := tc.policy.decide(u); got != tc.want {
				t.Errorf("decide(%s) = %s, want %s", tc.target, got, tc.want)
			}
		})
	}
}

func TestParseTransferMode(t *testing.T) {
	for _, m := range []TransferMode{TransferNever, TransferAsk, TransferAlways} {
		got, err := ParseTransferMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseTransferMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseTransferMode("sometimes"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("sometimes: %v, want ErrInvalidInput", err)
	}
}

func TestValidateTransferGlob(t *testing.T) {
	for g, ok := range map[string]bool{
		"sip:*@pbx.example":   true,
		"sips:?*@pbx.example": true,
		"*@pbx.example":       false, // no scheme
		"tel:*":               false,
		"sip:[@pbx":           false, // bad pattern
		"sip:*@pbx\r\nX: y":   false,
	} {
		if err := ValidateTransferGlob(g); (err == nil) != ok {
			t.Errorf("ValidateTransferGlob(%q) = %v, want ok=%v", g, err, ok)
		}
	}
}

// TestParseReferTo: the Refer-To is checked like a dialed URI; nothing but
// Replaces (and Referred-By) reaches the INVITE; a secure dialog refuses a
// sip: target.
func TestParseReferTo(t *testing.T) {
	cases := []struct {
		name     string
		referTo  []string
		secure   bool
		wantCode int // 0: accepted
		wantURI  string
		wantRepl string
	}{
		{"name-addr", []string{"<sip:carol@pbx.example>"}, false, 0, "sip:carol@pbx.example", ""},
		{"addr-spec with header param", []string{"sip:carol@pbx.example;foo=bar"}, false, 0, "sip:carol@pbx.example", ""},
		{"display name", []string{`"Carol" <sip:carol@pbx.example:5070;transport=tcp>`}, false, 0, "sip:carol@pbx.example:5070;transport=tcp", ""},
		{"replaces kept", []string{"<sip:carol@pbx.example?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>"}, false, 0, "sip:carol@pbx.example", "abc@h;to-tag=1;from-tag=2"},
		{"other headers dropped", []string{"<sip:carol@pbx.example?X-Foo=bar&Subject=hi>"}, false, 0, "sip:carol@pbx.example", ""},
		{"no Refer-To", nil, false, 400, "", ""},
		{"two Refer-To", []string{"<sip:a@pbx.example>", "<sip:b@pbx.example>"}, false, 400, "", ""},
		{"injection in Replaces", []string{"<sip:carol@pbx.example?Replaces=abc%0D%0AX-Evil%3A%201>"}, false, 400, "", ""},
		{"injection in header name", []string{"<sip:carol@pbx.example?X%0D%0AEvil=1>"}, false, 400, "", ""},
		{"tel scheme", []string{"<tel:+15551234>"}, false, 416, "", ""},
		{"http scheme", []string{"<http://evil.example/>"}, false, 416, "", ""},
		{"no scheme", []string{"<carol@pbx.example>"}, false, 416, "", ""},
		{"unclosed", []string{"<sip:carol@pbx.example"}, false, 400, "", ""},
		{"two @", []string{"<sip:a@b@pbx.example>"}, false, 400, "", ""},
		{"sips in secure dialog", []string{"<sips:carol@pbx.example>"}, true, 0, "sips:carol@pbx.example", ""},
		{"downgrade refused", []string{"<sip:carol@pbx.example>"}, true, 603, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := sip.NewRequest(sip.REFER, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
			for _, v := range tc.referTo {
				req.AppendHeader(sip.NewHeader("Refer-To", v))
			}
			got, err := parseReferTo(req, tc.secure)
			if tc.wantCode != 0 {
				var re *referError
				if !errors.As(err, &re) || re.code != tc.wantCode {
					t.Fatalf("err = %v, want a %d", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := got.uri.String(); s != tc.wantURI {
				t.Errorf("uri = %s, want %s", s, tc.wantURI)
			}
			if got.headers["Replaces"] != tc.wantRepl {
				t.Errorf("Replaces = %q, want %q", got.headers["Replaces"], tc.wantRepl)
			}
			for k := range got.headers {
				if k != "Replaces" && k != "Referred-By" {
					t.Errorf("header %s passed on", k)
				}
			}
		})
	}
}
