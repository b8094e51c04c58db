package sessions

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone"
)

// Three subscribers, one never reads: the pump keeps going and the two
// readers get every state event, in order.
func TestFanOutSlowSubscriberNeverBlocks(t *testing.T) {
	const n = 10_000
	m, fp, sub := setup(t)
	_, sid := dial(t, m, fp, sub)
	sub.Close()
	stuck := m.Subscribe() // never read
	defer stuck.Close()
	readers := []*Subscription{m.Subscribe(), m.Subscribe()}

	var wg sync.WaitGroup
	errs := make(chan string, len(readers))
	for _, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				var ev Event
				select {
				case ev = <-r.C():
				case <-time.After(10 * time.Second):
					errs <- "reader starved at " + strconv.Itoa(i)
					return
				}
				ce, ok := ev.(CallEvent)
				if !ok || ce.Call.Codec != strconv.Itoa(i) {
					errs <- "event " + strconv.Itoa(i) + " out of order: codec " + ce.Call.Codec
					return
				}
			}
		}()
	}
	start := time.Now()
	for i := range n {
		ev := callEv(sid, phone.DirectionOutgoing, phone.StateActive, 1)
		ev.Codec = strconv.Itoa(i) // each event changes what a person sees
		fp.emit(t, ev)
	}
	pushed := time.Since(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if stuck.Err() != nil {
		t.Errorf("stuck subscriber cut off below the limit: %v", stuck.Err())
	}
	t.Logf("pushed %d events in %v", n, pushed)
}

func TestSlowSubscriberCutOff(t *testing.T) {
	m, fp, sub := setup(t, WithSubscriberLimit(50))
	stuck := m.Subscribe()
	id, sid := dial(t, m, fp, sub)
	for i := range 100 {
		ev := callEv(sid, phone.DirectionOutgoing, phone.StateActive, 1)
		ev.Codec = strconv.Itoa(i)
		fp.emit(t, ev)
		recvCall(t, sub)
	}
	// The channel is closed after what it already held; nothing is lost silently.
	eventually(t, "cut-off", func() bool { return errors.Is(stuck.Err(), ErrSlowSubscriber) })
	got := 0
	for range stuck.C() {
		got++
	}
	if got > subscriberBuffer+1 {
		t.Errorf("cut-off subscriber received %d events", got)
	}
	if _, ok := m.Call(id); !ok {
		t.Fatal("manager broken by the cut-off")
	}
	fp.emit(t, callEv(sid, phone.DirectionOutgoing, phone.StateTerminated, 2))
	if ce := recvCall(t, sub); ce.Call.State != StateTerminated {
		t.Fatalf("%+v", ce)
	}
}

// Media events wait coalesced (latest per call) and never overtake or get
// overtaken by state events.
func TestMediaCoalescing(t *testing.T) {
	m, fp, sub := setup(t)
	idA, sidA := dial(t, m, fp, sub)
	idB, sidB := dial(t, m, fp, sub)
	sub.Close()
	slow := m.Subscribe()
	defer slow.Close()
	// Fill slow's channel and put state events in its queue.
	for i := range 40 {
		ev := callEv(sidA, phone.DirectionOutgoing, phone.StateActive, 1)
		ev.Codec = strconv.Itoa(i)
		fp.emit(t, ev)
	}
	media := func(sid phone.SessionID, rx uint64) {
		fp.emit(t, phone.MediaEvent{Session: sid, Stats: phone.MediaStats{RxPackets: rx}})
	}
	media(sidA, 1)
	media(sidB, 1)
	hold := callEv(sidA, phone.DirectionOutgoing, phone.StateActive, 2)
	hold.Codec, hold.HeldLocal = "39", true
	fp.emit(t, hold)
	for rx := uint64(2); rx <= 1000; rx++ {
		media(sidA, rx)
		media(sidB, rx)
	}
	fp.flush(t)

	var got []Event
	for len(got) < 40+1+2 {
		got = append(got, recv(t, slow))
	}
	noEvent(t, slow)
	for i := range 40 {
		if ce, ok := got[i].(CallEvent); !ok || ce.Call.Codec != strconv.Itoa(i) {
			t.Fatalf("event %d: %#v", i, got[i])
		}
	}
	if ce, ok := got[40].(CallEvent); !ok || !ce.Call.HeldLocal {
		t.Fatalf("hold event overtaken: %#v", got[40])
	}
	last := map[CallID]uint64{}
	for _, ev := range got[41:] {
		me := ev.(MediaEvent)
		last[me.CallID] = me.Stats.RxPackets
	}
	if last[idA] != 1000 || last[idB] != 1000 {
		t.Fatalf("latest media not delivered: %v", last)
	}
	if c, _ := m.Call(idA); c.Stats.RxPackets != 1000 {
		t.Fatalf("CallInfo stats %+v", c.Stats)
	}
}

func TestSubscriptionCloseIdempotent(t *testing.T) {
	m, fp, _ := setup(t)
	s := m.Subscribe()
	s.Close()
	s.Close()
	if _, ok := <-s.C(); ok {
		t.Fatal("closed subscription delivers")
	}
	fp.emit(t, phone.RegistrationEvent{Account: "a", State: phone.RegRegistered})
	fp.flush(t)
	m.mu.RLock()
	n := len(m.subs)
	m.mu.RUnlock()
	if n != 1 { // setup's own subscription
		t.Fatalf("%d subscribers after Close", n)
	}
}
