// Package sipaddr reads and checks the addresses teaphone handles, with the
// standard library only, so that the session core (phone), the client core
// (sessions), the configuration and call scripts apply one rule each:
//
//   - sip:, sips: and tel: URIs (RFC 3261 §19.1, RFC 3966): ParseURI,
//     ParseHostPort, URI.String;
//   - name-addr header values such as `"Bob" <sip:bob@example.com>;tag=1`
//     (RFC 3261 §20.10): ParseNameAddr, NameAddr.String, EscapeQuoted;
//   - text bound for a SIP header, which must not hold CR, LF or other
//     control characters (RFC 3261 §25.1): CheckText;
//   - what a person types to call someone ("1000", "bob@example.com",
//     "sip:bob@example.com", a pasted name-addr): NormalizeTarget,
//     ResolveTarget;
//   - DTMF digits and their RFC 4733 §3.2 event codes: IsDTMF, ParseDTMF,
//     DTMFEvent, DTMFDigit.
//
// Errors wrap one of the sentinels in errors.go and say what is wrong with
// a part of the input (a host, a port, a character); callers put the input
// and where it came from (a config key, a script line) in front.
package sipaddr
