package ui

import (
	"errors"
	"testing"
)

// TestPickerRefresh: a listing keeps the cursor on its device, moves it to
// the first row when that device went away, and a failed listing keeps
// the last list and says why.
func TestPickerRefresh(t *testing.T) {
	list := func(names ...string) AudioDevices {
		l := AudioDevices{Input: "default", Output: "default"}
		for _, n := range names {
			l.Devices = append(l.Devices, AudioDevice{Name: n, Input: true, Output: true})
		}
		return l
	}
	tests := []struct {
		name   string
		cursor pickerRow
		next   devicesMsg
		want   pickerRow
		err    string
	}{
		{"kept", pickerRow{RoleOutput, "USB"}, devicesMsg{tag: 1, list: list("default", "USB", "HDMI")}, pickerRow{RoleOutput, "USB"}, ""},
		{"gone", pickerRow{RoleOutput, "USB"}, devicesMsg{tag: 1, list: list("default")}, pickerRow{RoleInput, "default"}, ""},
		{"ring on the speaker stays", pickerRow{RoleRing, ""}, devicesMsg{tag: 1, list: list()}, pickerRow{RoleRing, ""}, ""},
		{"failed", pickerRow{RoleOutput, "USB"}, devicesMsg{tag: 1, err: errors.New("listing audio devices: boom")}, pickerRow{RoleOutput, "USB"}, "listing audio devices: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(newFake(), Options{ListDevices: func() (AudioDevices, error) { return AudioDevices{}, nil }})
			m.picker = picker{open: true, tag: 1, loaded: true, list: list("default", "USB"), cursor: tc.cursor}
			m, cmd := m.handleDevices(tc.next)
			if m.picker.cursor != tc.want || m.picker.listErr != tc.err {
				t.Errorf("cursor %+v, error %q; want %+v, %q", m.picker.cursor, m.picker.listErr, tc.want, tc.err)
			}
			if cmd == nil {
				t.Error("no refresh tick armed")
			}
			if tc.err != "" && len(m.picker.list.Devices) != 2 {
				t.Errorf("the last list was dropped: %+v", m.picker.list)
			}
		})
	}
	// A listing for an earlier opening arms no tick.
	m := newTestModel(newFake(), Options{})
	m.picker = picker{open: true, tag: 2}
	if _, cmd := m.handleDevices(devicesMsg{tag: 1}); cmd != nil {
		t.Error("a stale listing armed a tick")
	}
}
