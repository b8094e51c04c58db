//go:build linux

package icmp_test

import (
	"fmt"
	"net"

	"github.com/teaphone/teaphone/phone/icmp"
)

// A request sent to a port where nothing listens is reported at once; the
// reader (sipgo's ServeUDP in the phone) never sees the error.
func ExampleWrap() {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	reports := make(chan icmp.Report, 1)
	conn, err := icmp.Wrap(uc, icmp.HandlerFunc(func(r icmp.Report) { reports <- r }))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	go func() { // stands for srv.ServeUDP(conn)
		buf := make([]byte, 2048)
		for {
			if _, _, err := conn.ReadFrom(buf); err != nil {
				return // net.ErrClosed, from conn.Close
			}
		}
	}()

	// A port where nothing listens: bound, then closed.
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	dead := probe.LocalAddr().(*net.UDPAddr)
	probe.Close()

	if _, err := conn.WriteTo([]byte("OPTIONS sip:nobody@127.0.0.1 SIP/2.0\r\n"), dead); err != nil {
		fmt.Println(err)
		return
	}
	r := <-reports
	fmt.Println(r.Reason, r.Addr.String() == dead.String())
	// Output: port unreachable true
}
