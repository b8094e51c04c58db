package stun

import (
	"net"
	"testing"

	pion "github.com/pion/stun/v3"
)

// FuzzParseResponse: whatever arrives on the socket, parsing never panics,
// and a usable address is only ever returned with ok.
func FuzzParseResponse(f *testing.F) {
	var id [pion.TransactionIDSize]byte
	copy(id[:], "0123456789ab")
	ok, _ := pion.Build(pion.NewTransactionIDSetter(id), pion.BindingSuccess,
		&pion.XORMappedAddress{IP: net.IPv4(203, 0, 113, 1), Port: 5000}, pion.Fingerprint)
	f.Add(ok.Raw)
	e, _ := pion.Build(pion.NewTransactionIDSetter(id), pion.BindingError, pion.ErrorCodeAttribute{Code: 400})
	f.Add(e.Raw)
	f.Add([]byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42})
	f.Fuzz(func(t *testing.T, b []byte) {
		addr, isAnswer, err := parseResponse(b, id)
		if addr.IsValid() && (!isAnswer || err != nil) {
			t.Fatalf("address %v with ok=%v err=%v", addr, isAnswer, err)
		}
	})
}
