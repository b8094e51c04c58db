package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/teaphone/teaphone/ui/keys"
)

// This file is the audio device picker (key s): the microphone, the
// speaker and the ring device, each chosen from the devices the sound
// system lists. Main lists and switches them (Options.ListDevices,
// Options.UseDevice); the UI only asks, in commands, and draws.

// DeviceRole is what the picker sets a device for.
type DeviceRole int

// The roles of the picker's sections.
const (
	RoleInput  DeviceRole = iota // the microphone
	RoleOutput                   // the speaker: calls, ringback, keypad tones
	RoleRing                     // the ring tone of incoming calls
)

func (r DeviceRole) String() string {
	switch r {
	case RoleInput:
		return "microphone"
	case RoleOutput:
		return "speaker"
	}
	return "ring"
}

// AudioDevice is one device the picker lists.
type AudioDevice struct {
	Name          string
	Input, Output bool // it can capture; it can play
}

// AudioDevices is what the picker shows: the devices, and those in use.
type AudioDevices struct {
	Devices []AudioDevice
	// Input, Output and Ring name the devices in use; Ring "" plays the
	// ring tone on the output device.
	Input, Output, Ring string
	// Note, if set, is shown under the list (such as why a device just
	// plugged in may not show yet).
	Note string
}

// deviceRefresh is how often the open picker lists the devices again.
const deviceRefresh = time.Second

// pickerRow is one choosable line of the picker.
type pickerRow struct {
	role DeviceRole
	name string // "" for the ring: on the speaker
}

// picker is the device picker's state; open is false when it is closed.
type picker struct {
	open    bool
	tag     int // of the refresh ticks of this opening
	list    AudioDevices
	loaded  bool
	cursor  pickerRow
	busy    string // the switch in progress, e.g. "speaker → USB Headset"
	err     string // the last failure, one sentence
	listErr string
}

type devicesMsg struct {
	tag  int
	list AudioDevices
	err  error
}

type deviceTickMsg struct{ tag int }

type deviceUsedMsg struct {
	row pickerRow
	err error
}

// rows lists the picker's choosable lines, in order.
func (p picker) rows() []pickerRow {
	var out []pickerRow
	for _, role := range []DeviceRole{RoleInput, RoleOutput, RoleRing} {
		if role == RoleRing {
			out = append(out, pickerRow{role: RoleRing})
		}
		for _, d := range p.list.Devices {
			if (role == RoleInput && d.Input) || (role != RoleInput && d.Output) {
				out = append(out, pickerRow{role: role, name: d.Name})
			}
		}
	}
	return out
}

// current reports whether r is the device in use for its role.
func (p picker) current(r pickerRow) bool {
	switch r.role {
	case RoleInput:
		return r.name == p.list.Input
	case RoleOutput:
		return r.name == p.list.Output
	}
	return r.name == p.list.Ring
}

// move moves the cursor by delta rows, stopping at the ends; a cursor on
// a device that went away lands on the first row.
func (p picker) move(delta int) picker {
	rows := p.rows()
	if len(rows) == 0 {
		return p
	}
	i := slices.Index(rows, p.cursor)
	if i < 0 {
		p.cursor = rows[0]
		return p
	}
	p.cursor = rows[min(max(i+delta, 0), len(rows)-1)]
	return p
}

// openPicker opens the picker on the device in use for the microphone
// and starts listing the devices.
func (m Model) openPicker() (Model, tea.Cmd) {
	if m.opts.ListDevices == nil {
		m.msg = message{text: "no sound card in use: there are no audio devices to choose", err: true}
		return m, nil
	}
	tag := m.picker.tag + 1
	m.picker = picker{open: true, tag: tag, list: m.picker.list, loaded: m.picker.loaded}
	m.picker.cursor = pickerRow{role: RoleInput, name: m.picker.list.Input}
	if m.picker.loaded {
		m.picker = m.picker.move(0)
	}
	return m, listDevicesCmd(m.opts.ListDevices, tag)
}

func listDevicesCmd(list func() (AudioDevices, error), tag int) tea.Cmd {
	return guard(func() tea.Msg {
		l, err := list()
		return devicesMsg{tag: tag, list: l, err: err}
	})
}

// handlePickerKey moves, chooses and closes while the picker is open.
// It takes the whole key map: the call keys' enabling (next and prev
// need two calls) does not apply here.
func (m Model) handlePickerKey(k tea.KeyMsg) (Model, tea.Cmd) {
	km := m.keys
	switch {
	case key.Matches(k, km.Interrupt):
		m.picker.open = false
		return m.quit()
	case key.Matches(k, km.Leave), key.Matches(k, km.Devices), key.Matches(k, km.Quit):
		m.picker.open = false
	case key.Matches(k, km.Submit):
		return m.useDevice()
	case key.Matches(k, km.Next):
		m.picker = m.picker.move(1)
	case key.Matches(k, km.Prev):
		m.picker = m.picker.move(-1)
	}
	return m, nil
}

// useDevice switches the cursor's role to its device, in a command.
func (m Model) useDevice() (Model, tea.Cmd) {
	p := m.picker
	r := p.cursor
	if m.opts.UseDevice == nil || p.busy != "" || !slices.Contains(p.rows(), r) || p.current(r) {
		return m, nil
	}
	m.picker.busy = fmt.Sprintf("%s → %s", r.role, deviceLabel(r))
	m.picker.err = ""
	use := m.opts.UseDevice
	return m, guard(func() tea.Msg { return deviceUsedMsg{row: r, err: use(r.role, r.name)} })
}

func deviceLabel(r pickerRow) string {
	if r.role == RoleRing && r.name == "" {
		return "same as the speaker"
	}
	return r.name
}

// handleDevices applies a listing (and re-arms the refresh tick), a tick
// or a switch's outcome.
func (m Model) handleDevices(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case devicesMsg:
		if msg.err != nil {
			m.picker.listErr = msg.err.Error()
		} else {
			if !m.picker.loaded { // the first listing: start on the microphone in use
				m.picker.cursor = pickerRow{role: RoleInput, name: msg.list.Input}
			}
			m.picker.list, m.picker.loaded, m.picker.listErr = msg.list, true, ""
			m.opts.AudioIn, m.opts.AudioOut = msg.list.Input, msg.list.Output
			if !slices.Contains(m.picker.rows(), m.picker.cursor) {
				m.picker = m.picker.move(0)
			}
		}
		if m.picker.open && msg.tag == m.picker.tag {
			tag := msg.tag
			return m, tea.Tick(deviceRefresh, func(time.Time) tea.Msg { return deviceTickMsg{tag: tag} })
		}
	case deviceTickMsg:
		if m.picker.open && msg.tag == m.picker.tag {
			return m, listDevicesCmd(m.opts.ListDevices, msg.tag)
		}
	case deviceUsedMsg:
		m.picker.busy = ""
		what := fmt.Sprintf("%s → %s", msg.row.role, deviceLabel(msg.row))
		if msg.err != nil {
			m.picker.err = fmt.Sprintf("could not switch the %s to %s: %v", msg.row.role, deviceLabel(msg.row), msg.err)
			m.logf("%s", m.picker.err)
			return m, nil
		}
		m.msg = message{text: what}
		m.logf("audio %s", what)
		switch msg.row.role {
		case RoleInput:
			m.picker.list.Input, m.opts.AudioIn = msg.row.name, msg.row.name
		case RoleOutput:
			m.picker.list.Output, m.opts.AudioOut = msg.row.name, msg.row.name
		default:
			m.picker.list.Ring = msg.row.name
		}
	}
	return m, nil
}

// pickerView draws the open picker in h lines at most: a section per
// role, the cursor (›) and the device in use ((•)) marked, scrolled to
// keep the cursor in sight.
func (m Model) pickerView(w, h int) []string {
	p, st := m.picker, m.st
	out := []string{heading(st.Help.Title, "audio devices", w)}
	if !p.loaded && p.listErr == "" {
		return append(out, st.Help.Desc.Render("  listing the devices…"))
	}
	titles := map[DeviceRole]string{
		RoleInput: "Microphone (input)", RoleOutput: "Speaker (output)", RoleRing: "Ring tone",
	}
	var prev DeviceRole = -1
	cursorAt := 0
	for _, r := range p.rows() {
		if r.role != prev {
			out = append(out, st.Prompt.Title.Render(titles[r.role]))
			prev = r.role
		}
		cur, mark := "  ", "( )"
		if r == p.cursor {
			cur = "› "
		}
		if p.current(r) {
			mark = "(•)"
		}
		line := cur + mark + " " + deviceLabel(r)
		if r == p.cursor {
			line = st.Calls.Selected.Render(line)
			cursorAt = len(out)
		}
		out = append(out, line)
	}
	if len(p.list.Devices) == 0 && p.loaded {
		out = append(out, st.Help.Desc.Render("  no audio devices found"))
	}
	out = append(out, "")
	wrap := func(style lipgloss.Style, text string) {
		for _, l := range strings.Split(ansi.Wordwrap(text, w, " "), "\n") {
			out = append(out, style.Render(l))
		}
	}
	switch {
	case p.busy != "":
		wrap(st.Message.Info, "switching "+p.busy+"…")
	case p.err != "":
		wrap(st.Message.Error, "! "+p.err)
	case p.listErr != "":
		wrap(st.Message.Error, "! listing the devices: "+p.listErr)
	}
	if p.list.Note != "" {
		wrap(st.Help.Desc, p.list.Note)
	}
	for i, l := range out {
		out[i] = ansi.Truncate(l, w, "…")
	}
	if over := cursorAt + 1 - h; over > 0 { // keep the heading, scroll the rest
		out = append(out[:1], out[1+over:]...)
	}
	return out
}

// pickerHelp is the footer while the picker is open.
func pickerHelp(km keys.KeyMap) []key.Binding {
	with := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	return []key.Binding{with(km.Submit, "use"), with(km.Next, "down"), with(km.Prev, "up"), with(km.Leave, "close")}
}
