// Package sessions is teaphone's client core. It sits on the session core
// (package phone) and gives the UI and the headless modes what they work with:
//
//   - CallIDs (UUIDs, stable in every event and command) and line numbers
//     (1, 2, … for people, reused after a call ends), mapped to and from the
//     phone's SessionIDs;
//   - CallInfo per call (direction, client State, peer, Subject, SIP Call-ID,
//     codec, hold and mute flags, timestamps set once, end cause, media
//     stats), kept in a bounded History after the call ends;
//   - pending incoming calls and the Rules that decide them (accept after a
//     delay, reject, forward, defer to the UI, ignore; by caller pattern);
//   - counters that never underflow (Stats);
//   - an event fan-out to any number of Subscriptions, where a slow
//     subscriber never blocks SIP and state events are never dropped.
//
// Wiring (main.go):
//
//	mgr := sessions.New(sessions.WithLogger(log))
//	_ = mgr.SetRules(sessions.AcceptAll(2 * time.Second)) // headless answer mode
//	ph, err := phone.New(phone.Options{Handler: mgr, …})
//	_ = mgr.Start(ph)
//	_ = ph.Start(ctx)
//	…
//	mgr.HangupAll(); ph.Close(); mgr.Close()
package sessions
