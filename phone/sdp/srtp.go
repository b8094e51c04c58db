package sdp

import (
	"fmt"
	"slices"

	psdp "github.com/pion/sdp/v3"
)

// SRTP is our side of SDES keying (RFC 4568) for one call. Keep it in the
// call's Local: our keys are made on first use and kept for every later
// offer and answer of the call, so that a re-INVITE (hold, resume) does not
// rekey (RFC 4568 §7.1.4 allows keeping the keys; a changed remote key is
// the caller's to apply).
type SRTP struct {
	// Mandatory offers the RTP/SAVP profile (RFC 3711 §12) and refuses
	// answers and offers without a usable key. Without it offers use RTP/AVP
	// with a=crypto: the best-effort convention of baresip's srtp module and
	// Asterisk, which a peer without SRTP answers in plain RTP.
	Mandatory bool
	// SAVP offers the RTP/SAVP profile without Mandatory's refusals: for an
	// optional caller whose RTP/AVP offer with a=crypto a peer refused
	// (baresip's srtp-mand answers it 488), offering again as RTP/SAVP.
	SAVP bool
	// Suites lists the suites we offer and accept, in our order of
	// preference; empty means Suites (the package variable).
	Suites []Suite

	keys map[Suite][]byte
}

// Keys is the outcome of a negotiation: the suite and both sides' master
// key||salt. It is secret: log only Suite.
type Keys struct {
	Suite  Suite
	Local  []byte // ours: we encrypt with it
	Remote []byte // the peer's: we decrypt with it
	// RemoteMKI is the MKI the peer's packets carry (RFC 3711 §3.1), nil
	// for none. Ours never carry one.
	RemoteMKI []byte
}

// savp reports whether our offers use RTP/SAVP (RFC 3711 §12).
func (s *SRTP) savp() bool { return s != nil && (s.Mandatory || s.SAVP) }

func (s *SRTP) suites() []Suite {
	if len(s.Suites) == 0 {
		return Suites
	}
	return s.Suites
}

// Key returns our key||salt for suite, made on first use.
func (s *SRTP) Key(suite Suite) ([]byte, error) {
	if k, ok := s.keys[suite]; ok {
		return k, nil
	}
	k, err := NewKey(suite)
	if err != nil {
		return nil, err
	}
	if s.keys == nil {
		s.keys = make(map[Suite][]byte)
	}
	s.keys[suite] = k
	return k, nil
}

// offerLines returns our a=crypto lines, tags 1, 2, … in our order.
func (s *SRTP) offerLines() ([]Crypto, error) {
	var out []Crypto
	for i, suite := range s.suites() {
		k, err := s.Key(suite)
		if err != nil {
			return nil, err
		}
		out = append(out, Crypto{Tag: i + 1, Suite: suite, Key: k})
	}
	return out, nil
}

// Accept returns the keys agreed by an answer to one of our offers: the
// answer's first a=crypto line whose tag and suite match a line we offered
// (RFC 4568 §7.1.3: the answer echoes the tag of the accepted line). ok is
// false when there is none: the call is then plain RTP, which a Mandatory
// caller must refuse.
func (s *SRTP) Accept(answer []Crypto) (k Keys, ok bool) {
	offered := s.suites()
	for _, c := range answer {
		if c.Tag < 1 || c.Tag > len(offered) || offered[c.Tag-1] != c.Suite {
			continue
		}
		mine, err := s.Key(c.Suite)
		if err != nil {
			continue
		}
		return Keys{Suite: c.Suite, Local: mine, Remote: c.Key, RemoteMKI: c.MKI}, true
	}
	return Keys{}, false
}

// choose returns the first offered line whose suite we support, RFC 4568
// §7.1.1 (the offerer's order is its preference), and our answer line with
// the same tag and suite and our key. Lines we cannot use (an unknown
// session parameter, several keys) were dropped by parseCryptoLines. Our
// line has no MKI even when theirs has one: each line's MKI is its
// sender's (RFC 4568 §6.1), and we send with one key.
func (s *SRTP) choose(offer []Crypto) (theirs, ours Crypto, ok bool, err error) {
	for _, c := range offer {
		if !slices.Contains(s.suites(), c.Suite) {
			continue
		}
		k, err := s.Key(c.Suite)
		if err != nil {
			return Crypto{}, Crypto{}, false, err
		}
		return c, Crypto{Tag: c.Tag, Suite: c.Suite, Key: k}, true, nil
	}
	return Crypto{}, Crypto{}, false, nil
}

// parseCryptoLines returns the usable a=crypto lines of md in order;
// malformed or unusable ones are skipped.
func parseCryptoLines(md *psdp.MediaDescription) []Crypto {
	var out []Crypto
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			continue
		}
		if c, err := ParseCrypto(a.Value); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// addCrypto appends a=crypto lines to md.
func addCrypto(md *psdp.MediaDescription, lines []Crypto) {
	for _, c := range lines {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("crypto", c.String()))
	}
}

// answerSRTP decides the keying of an answer to remote: it returns the
// line to write (nil for plain RTP) and narrows remote.Crypto to the
// accepted line. RFC 3711 §12 / RFC 4568 §7.1.2: an RTP/SAVP offer without
// a usable line cannot be answered (the stream would be rejected; we fail
// with ErrNoCrypto, a UAS sends 488), nor can any offer without one when
// SRTP is mandatory for us.
func answerSRTP(s *SRTP, remote *Media) ([]Crypto, error) {
	if s == nil {
		if remote.SAVP {
			return nil, fmt.Errorf("%w: RTP/SAVP offered, SRTP is off", ErrNoCrypto)
		}
		remote.Crypto = nil
		return nil, nil
	}
	theirs, ours, ok, err := s.choose(remote.Crypto)
	if err != nil {
		return nil, err
	}
	if !ok {
		if remote.SAVP || s.Mandatory {
			return nil, fmt.Errorf("%w: no usable a=crypto in the offer", ErrNoCrypto)
		}
		remote.Crypto = nil
		return nil, nil
	}
	remote.Crypto = []Crypto{theirs}
	return []Crypto{ours}, nil
}

// AnswerKeys returns the keys of an answer made by Answer with l.SRTP set:
// the accepted offer line (remote.Crypto[0]) and our key for its suite.
// ok is false when the answer is plain RTP.
func (s *SRTP) AnswerKeys(remote Media) (Keys, bool) {
	if s == nil || len(remote.Crypto) == 0 {
		return Keys{}, false
	}
	c := remote.Crypto[0]
	k, ok := s.keys[c.Suite]
	if !ok {
		return Keys{}, false
	}
	return Keys{Suite: c.Suite, Local: k, Remote: c.Key, RemoteMKI: c.MKI}, true
}
