package peertest

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wait is the generous per-step timeout of these tests (the machine may be
// busy with other builds); all waits return as soon as the event arrives.
const wait = 15 * time.Second

func TestBaresipDirectCall(t *testing.T) {
	t.Parallel()
	start := time.Now()
	a := StartBaresip(t, BaresipConfig{User: "alice", AudioSource: "ausine,1000"})
	b := StartBaresip(t, BaresipConfig{User: "bob", Display: "Bob"})
	t.Logf("two baresip peers ready in %v (alice %d, bob %d)", time.Since(start).Round(time.Millisecond), a.SIPPort, b.SIPPort)

	am, bm := a.Mark(), b.Mark()
	if err := a.Dial(b.URI()); err != nil {
		t.Fatal(err)
	}
	evB, err := b.WaitEvent(bm, "CALL_ESTABLISHED", wait)
	if err != nil {
		t.Fatal(err)
	}
	if evB.Direction != "incoming" {
		t.Errorf("bob's CALL_ESTABLISHED direction = %q, want incoming", evB.Direction)
	}
	if _, err := a.WaitEvent(am, "CALL_ESTABLISHED", wait); err != nil {
		t.Fatal(err)
	}
	t.Logf("established after %v", time.Since(start).Round(time.Millisecond))

	dbg, err := a.AudioDebug()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dbg, "PCMU") || !strings.Contains(dbg, "dir=sendrecv") {
		t.Errorf("alice audio_debug lacks PCMU/sendrecv:\n%s", dbg)
	}

	// Let some audio flow before the DTMF (1-2 s between CALL_ESTABLISHED
	// and DTMF is known to work; shorter gaps were never tried).
	time.Sleep(time.Second)
	bm = b.Mark()
	if err := a.SendDTMF("12#"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for b.DTMFReceived(bm) != "12#" && time.Now().Before(deadline) {
		time.Sleep(pollInterval)
	}
	if got := b.DTMFReceived(bm); got != "12#" {
		t.Fatalf("bob received DTMF %q, want 12#", got)
	}
	t.Logf("DTMF 12# received after %v", time.Since(start).Round(time.Millisecond))

	am, bm = a.Mark(), b.Mark()
	if err := a.Hangup(); err != nil {
		t.Fatal(err)
	}
	evA, err := a.WaitEvent(am, "CALL_CLOSED", wait)
	if err != nil {
		t.Fatal(err)
	}
	evB, err = b.WaitEvent(bm, "CALL_CLOSED", wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("closed: alice %q, bob %q", evA.Param, evB.Param)

	rec, err := b.LatestRecording("dec")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(rec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() <= 44 {
		t.Errorf("%s: %d bytes, want > 44", rec, st.Size())
	}
	t.Logf("bob's recording %s: %d bytes; total %v", rec, st.Size(), time.Since(start).Round(time.Millisecond))

	// Call commands fail without a call.
	if err := a.Hold(); err == nil {
		t.Error("hold without a call succeeded")
	}
}

func TestKamailioOptionsProbe(t *testing.T) {
	t.Parallel()
	start := time.Now()
	k := StartKamailio(t, KamailioConfig{Users: map[string]string{"alice": "alicepw"}})
	t.Logf("Kamailio ready on %s in %v", k.Addr(), time.Since(start).Round(time.Millisecond))
	code, err := ProbeOptions(k.Addr(), 5*time.Second)
	if err != nil || code != 200 {
		t.Fatalf("ProbeOptions(kamailio) = %d, %v; want 200", code, err)
	}
	if !strings.Contains(k.Log(), "REQ OPTIONS sip:"+k.Addr()) {
		t.Errorf("Kamailio log lacks the OPTIONS request")
	}

	// Nothing listens on a free port: the probe fails within its timeout.
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	code, err = ProbeOptions("127.0.0.1:"+strconv.Itoa(port), 500*time.Millisecond)
	if err == nil {
		t.Fatalf("ProbeOptions(nothing) = %d, nil; want an error", code)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("ProbeOptions(nothing) took %v", d)
	}
	t.Logf("probe of an unused port: %v", err)

	k.Stop()
	if _, err := ProbeOptions(k.Addr(), 300*time.Millisecond); err == nil {
		t.Error("Kamailio still answers after Stop")
	}
}

func TestKamailioRegisteredCall(t *testing.T) {
	t.Parallel()
	start := time.Now()
	k := StartKamailio(t, KamailioConfig{
		Users:       map[string]string{"alice": "alicepw", "bob": "bobpw"},
		RecordRoute: true,
		QOP:         true,
	})
	alice := StartBaresip(t, BaresipConfig{User: "alice", Registrar: k.Addr(), Password: "alicepw"})
	bob := StartBaresip(t, BaresipConfig{User: "bob", Registrar: k.Addr(), Password: "bobpw", TCP: true})
	t.Logf("Kamailio + 2 registered peers ready in %v", time.Since(start).Round(time.Millisecond))
	if alice.AOR() != k.URI("alice") {
		t.Errorf("alice AOR %q, want %q", alice.AOR(), k.URI("alice"))
	}

	regs, err := k.Registrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AoR: alice", "AoR: bob", "Socket: tcp:127.0.0.1:" + strconv.Itoa(k.Port)} {
		if !strings.Contains(regs, want) {
			t.Errorf("ul.dump lacks %q:\n%s", want, regs)
		}
	}

	am, bm := alice.Mark(), bob.Mark()
	if err := alice.Dial(k.URI("bob")); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", wait); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent(am, "CALL_ESTABLISHED", wait); err != nil {
		t.Fatal(err)
	}
	t.Logf("established via proxy after %v", time.Since(start).Round(time.Millisecond))
	am, bm = alice.Mark(), bob.Mark()
	if err := alice.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent(am, "CALL_CLOSED", wait); err != nil {
		t.Fatal(err)
	}
	if ev, err := bob.WaitEvent(bm, "CALL_CLOSED", wait); err != nil {
		t.Fatal(err)
	} else if ev.Param != "Connection reset by peer" {
		t.Errorf("bob CALL_CLOSED %q, want remote BYE", ev.Param)
	}
	log := k.Log()
	for _, want := range []string{"auth rc=", "-> 407", "REQ BYE"} {
		if !strings.Contains(log, want) {
			t.Errorf("Kamailio log lacks %q", want)
		}
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

func TestKamailioWrongPassword(t *testing.T) {
	t.Parallel()
	start := time.Now()
	k := StartKamailio(t, KamailioConfig{Users: map[string]string{"carol": "carolpw"}, QOP: true})
	c := StartBaresip(t, BaresipConfig{User: "carol", Registrar: k.Addr(), Password: "wrong", NoRegisterWait: true})
	// baresip retries the challenge ~16 times (Kamailio sends a fresh nonce
	// with every 401) before reginfo shows ERR: about 0.1 s when idle, but
	// it took 13 s at a load average of 21 on 2 cores.
	err := c.WaitRegistered(wait)
	if err == nil {
		t.Fatal("registration with a wrong password succeeded")
	}
	if !strings.Contains(err.Error(), "reginfo ERR") {
		t.Fatalf("want a reginfo ERR failure, got: %v", err)
	}
	t.Logf("wrong password reported after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

func TestLinphonecViaKamailio(t *testing.T) {
	t.Parallel()
	start := time.Now()
	k := StartKamailio(t, KamailioConfig{
		Users:       map[string]string{"alice": "alicepw", "carol": "carolpw"},
		RecordRoute: true,
		QOP:         true,
	})
	// linphonec needs a file to play: without one it sends almost no RTP,
	// and then its DTMF never reaches baresip.
	wav := filepath.Join(t.TempDir(), "silence.wav")
	writeSilenceWAV(t, wav, 8000, 30)
	carol := StartLinphonec(t, LinphoneConfig{
		User: "carol", Registrar: k.Addr(), Password: "carolpw", AutoAnswer: true, PlayWAV: wav,
	})
	alice := StartBaresip(t, BaresipConfig{User: "alice", Registrar: k.Addr(), Password: "alicepw"})
	t.Logf("Kamailio, linphonec carol and baresip alice ready in %v", time.Since(start).Round(time.Millisecond))

	cm, am := carol.Mark(), alice.Mark()
	if err := alice.Dial(k.URI("carol")); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.WaitOutput(cm, "connected.", wait); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent(am, "CALL_ESTABLISHED", wait); err != nil {
		t.Fatal(err)
	}
	t.Logf("established after %v", time.Since(start).Round(time.Millisecond))

	time.Sleep(time.Second)
	cm = carol.Mark()
	if err := alice.SendDTMF("7"); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.WaitOutput(cm, "Receiving tone 7", wait); err != nil {
		t.Fatal(err)
	}
	if err := carol.Command("5"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent(am, "CALL_DTMF_START", wait); err != nil {
		t.Fatal(err)
	}
	if got := alice.DTMFReceived(am); got != "5" {
		t.Errorf("alice received DTMF %q, want 5", got)
	}
	t.Logf("DTMF both ways after %v", time.Since(start).Round(time.Millisecond))

	cm = carol.Mark()
	if err := alice.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.WaitOutput(cm, "ended (", wait); err != nil {
		t.Fatal(err)
	}
	out, err := carol.Exec("status register")
	if err != nil || !strings.Contains(out, "registered,") {
		t.Errorf("status register = %q, %v", out, err)
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// writeSilenceWAV writes secs seconds of 16-bit mono silence.
func writeSilenceWAV(t *testing.T, path string, rate, secs int) {
	data := rate * 2 * secs
	h := make([]byte, 44, 44+data)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data))
	if err := os.WriteFile(path, append(h, make([]byte, data)...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBaresipManualHoldTransfer(t *testing.T) {
	t.Parallel()
	start := time.Now()
	alice := StartBaresip(t, BaresipConfig{User: "alice"})
	bob := StartBaresip(t, BaresipConfig{User: "bob", AnswerMode: "manual"})
	carol := StartBaresip(t, BaresipConfig{User: "carol"})

	am, bm := alice.Mark(), bob.Mark()
	if err := alice.Dial(bob.URI()); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent(bm, "CALL_INCOMING", wait); err != nil {
		t.Fatal(err)
	}
	if err := bob.Accept(); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent(am, "CALL_ESTABLISHED", wait); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", wait); err != nil {
		t.Fatal(err)
	}
	t.Logf("manually answered after %v", time.Since(start).Round(time.Millisecond))

	// Hold and resume by bob: alice receives re-INVITEs.
	waitDir := func(want string) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			dbg, err := alice.AudioDebug()
			if err == nil && strings.Contains(dbg, "dir="+want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("alice audio_debug never showed dir=%s: %v\n%s", want, err, dbg)
			}
			time.Sleep(pollInterval)
		}
	}
	time.Sleep(time.Second)
	if err := bob.Hold(); err != nil {
		t.Fatal(err)
	}
	waitDir("recvonly")
	if err := bob.Resume(); err != nil {
		t.Fatal(err)
	}
	waitDir("sendrecv")
	t.Logf("hold/resume done after %v", time.Since(start).Round(time.Millisecond))

	// Blind transfer: bob refers alice to carol.
	am, bm, cm := alice.Mark(), bob.Mark(), carol.Mark()
	if err := bob.Transfer(carol.URI()); err != nil {
		t.Fatal(err)
	}
	if ev, err := alice.WaitEvent(am, "TRANSFER", wait); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(ev.Param, carol.URI()) {
		t.Errorf("TRANSFER param %q, want %s", ev.Param, carol.URI())
	}
	if _, err := carol.WaitEvent(cm, "CALL_ESTABLISHED", wait); err != nil {
		t.Fatal(err)
	}
	if ev, err := bob.WaitEvent(bm, "CALL_CLOSED", wait); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("bob's call closed: %q", ev.Param)
	}
	t.Logf("transferred after %v", time.Since(start).Round(time.Millisecond))
	cm = carol.Mark()
	if err := carol.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.WaitEvent(cm, "CALL_CLOSED", wait); err != nil {
		t.Fatal(err)
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}
