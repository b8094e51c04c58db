//go:build linux

package netlab

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Records are the DNS records the lab's dnsmasq serves. It serves nothing
// else: any other name is NXDOMAIN, and it has no upstream server.
type Records struct {
	// Hosts are A and AAAA records.
	Hosts []HostRecord
	// SRV are SRV records (RFC 2782), e.g. _sip._udp.provider.test.
	SRV []SRVRecord
	// NAPTR are NAPTR records (RFC 3403), e.g. for RFC 3263's
	// "SIP+D2U" service.
	NAPTR []NAPTRRecord
}

// HostRecord gives a name its addresses (A for IPv4, AAAA for IPv6).
type HostRecord struct {
	Name  string
	Addrs []netip.Addr
}

// SRVRecord is one SRV record: Name is "_service._proto.domain".
type SRVRecord struct {
	Name     string
	Target   string
	Port     uint16
	Priority uint16
	Weight   uint16
}

// NAPTRRecord is one NAPTR record, e.g. Name "provider.test", Order 10,
// Preference 50, Flags "s", Service "SIP+D2U", Regexp "", Replacement
// "_sip._udp.provider.test".
type NAPTRRecord struct {
	Name        string
	Order       uint16
	Preference  uint16
	Flags       string
	Service     string
	Regexp      string
	Replacement string
}

// args returns the records as dnsmasq options.
func (r Records) args() ([]string, error) {
	var args []string
	for _, h := range r.Hosts {
		if err := checkFields(h.Name); err != nil {
			return nil, fmt.Errorf("host record %q: %w", h.Name, err)
		}
		if len(h.Addrs) == 0 {
			return nil, fmt.Errorf("host record %q: no address", h.Name)
		}
		for _, a := range h.Addrs {
			if !a.IsValid() {
				return nil, fmt.Errorf("host record %q: invalid address", h.Name)
			}
			args = append(args, "--host-record="+h.Name+","+a.Unmap().String())
		}
	}
	for _, s := range r.SRV {
		if err := checkFields(s.Name, s.Target); err != nil {
			return nil, fmt.Errorf("SRV record %q: %w", s.Name, err)
		}
		args = append(args, "--srv-host="+strings.Join([]string{s.Name, s.Target,
			u16(s.Port), u16(s.Priority), u16(s.Weight)}, ","))
	}
	for _, n := range r.NAPTR {
		if err := checkFields(n.Name, n.Flags, n.Service, n.Regexp, n.Replacement); err != nil {
			return nil, fmt.Errorf("NAPTR record %q: %w", n.Name, err)
		}
		args = append(args, "--naptr-record="+strings.Join([]string{n.Name,
			u16(n.Order), u16(n.Preference), n.Flags, n.Service, n.Regexp, n.Replacement}, ","))
	}
	return args, nil
}

// checkFields refuses what would break a dnsmasq option: its fields are
// separated by commas.
func checkFields(fields ...string) error {
	for _, f := range fields {
		if strings.ContainsAny(f, ", \t\r\n") {
			return fmt.Errorf("%q: no commas or white space allowed", f)
		}
	}
	if fields[0] == "" {
		return fmt.Errorf("empty name")
	}
	return nil
}

func u16(v uint16) string { return strconv.Itoa(int(v)) }
