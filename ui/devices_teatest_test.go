package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
)

// fakeDevices stands in for main's device lister and switcher: a list the
// test changes (a headset plugged in) and switches that fail for the
// devices named in fail.
type fakeDevices struct {
	mu   sync.Mutex
	list AudioDevices
	fail map[string]error
	used []string
}

func (f *fakeDevices) List() (AudioDevices, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.list
	l.Devices = slices.Clone(l.Devices)
	return l, nil
}

func (f *fakeDevices) Use(role DeviceRole, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.used = append(f.used, fmt.Sprintf("%s %s", role, name))
	if err := f.fail[name]; err != nil {
		return err
	}
	switch role {
	case RoleInput:
		f.list.Input = name
	case RoleOutput:
		f.list.Output = name
	default:
		f.list.Ring = name
	}
	return nil
}

func (f *fakeDevices) plug(d AudioDevice) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list.Devices = append(f.list.Devices, d)
}

func (f *fakeDevices) uses() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.used)
}

// TestFlowDevicePicker: s opens the picker on the microphone in use; j and
// enter switch the microphone; a headset plugged in while it is open shows
// up within the refresh; a switch that fails says why in the picker and
// changes nothing; esc closes it.
func TestFlowDevicePicker(t *testing.T) {
	fd := &fakeDevices{
		list: AudioDevices{Devices: []AudioDevice{
			{Name: "default", Input: true, Output: true},
			{Name: "Built-in Mic", Input: true},
		}, Input: "default", Output: "default"},
		fail: map[string]error{"USB Headset": errors.New(`cannot open audio output device "USB Headset" at 8000 Hz: Device unavailable`)},
	}
	m := New(newFake(), Options{Now: fixedNow, ListDevices: fd.List, UseDevice: fd.Use, AudioIn: "default", AudioOut: "default"})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))

	waitText(t, tm, "no calls")
	tm.Type("s")
	waitText(t, tm, "Microphone (input)", "› (•) default", "Ring tone", "(•) same as the speaker")

	tm.Type("j")
	waitText(t, tm, "› ( ) Built-in Mic")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitText(t, tm, "› (•) Built-in Mic", "in: Built-in Mic")
	if got := fd.uses(); !slices.Equal(got, []string{"microphone Built-in Mic"}) {
		t.Fatalf("switches %q", got)
	}

	fd.plug(AudioDevice{Name: "USB Headset", Input: true, Output: true})
	waitText(t, tm, "USB Headset") // the next refresh lists it

	// Microphone: default, Built-in Mic, USB Headset; speaker: default,
	// USB Headset.
	tm.Type("jjj")
	waitText(t, tm, "› ( ) USB Headset")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitText(t, tm, "! could not switch the speaker to USB Headset: cannot open audio output device", `"USB Headset" at 8000 Hz: Device unavailable`)
	if got := fd.uses(); len(got) != 2 || got[1] != "speaker USB Headset" {
		t.Fatalf("switches %q", got)
	}

	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	waitText(t, tm, "calls (0)")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
	fm := tm.FinalModel(t).(Model)
	if fm.picker.open || fm.opts.AudioIn != "Built-in Mic" || fm.opts.AudioOut != "default" {
		t.Errorf("picker open %v, in %q, out %q", fm.picker.open, fm.opts.AudioIn, fm.opts.AudioOut)
	}
}

// TestDevicePickerWithoutSoundCard: without a lister the key says why
// nothing opens.
func TestDevicePickerWithoutSoundCard(t *testing.T) {
	m, _ := feed(t, New(newFake(), Options{Now: fixedNow}), keyMsg("s"))
	if m.picker.open || !strings.Contains(m.msg.text, "no sound card") {
		t.Errorf("picker open %v, message %q", m.picker.open, m.msg.text)
	}
}
