package ctl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// ReplyLine is a decoded reply: its ok and error fields and the line
// itself (without the newline).
type ReplyLine struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	Raw   []byte `json:"-"`
}

// dial connects to the socket at path; ctx ends the connection.
func dial(ctx context.Context, path string) (net.Conn, func(), error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	return nc, func() { stop(); _ = nc.Close() }, nil
}

// Do sends one request to the socket at path and returns its reply. A
// reply with ok false is not an error of Do: see ReplyLine.OK.
func Do(ctx context.Context, path string, req Request) (ReplyLine, error) {
	nc, done, err := dial(ctx, path)
	if err != nil {
		return ReplyLine{}, err
	}
	defer done()
	if len(req.ID) == 0 {
		req.ID = json.RawMessage(`"1"`)
	}
	if err := writeRequest(nc, req); err != nil {
		return ReplyLine{}, err
	}
	sc := bufio.NewScanner(nc)
	sc.Buffer(make([]byte, 4096), 16<<20)
	for sc.Scan() {
		var r struct {
			ReplyLine
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(sc.Bytes(), &r) != nil || string(r.ID) != string(req.ID) {
			continue // not ours (an event)
		}
		r.Raw = append([]byte(nil), sc.Bytes()...)
		return r.ReplyLine, nil
	}
	return ReplyLine{}, readErr(ctx, sc.Err())
}

// Follow subscribes to events on the socket at path and copies the reply
// ({"id":"events","ok":true,"events":true}: from now on no event is missed)
// and then every event line to w until ctx ends or teaphone ends (nil), or
// teaphone disconnects it for reading too slowly (an error).
func Follow(ctx context.Context, path string, w io.Writer) error {
	nc, done, err := dial(ctx, path)
	if err != nil {
		return err
	}
	defer done()
	if err := writeRequest(nc, Request{ID: json.RawMessage(`"events"`), Cmd: "events"}); err != nil {
		return err
	}
	sc := bufio.NewScanner(nc)
	sc.Buffer(make([]byte, 4096), 16<<20)
	first, kicked := true, ""
	for sc.Scan() {
		var ev struct {
			Event, Error string
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event == "ctl" {
			kicked = ev.Error
		}
		if first { // the reply to "events": printed too, it tells the subscription is in place
			first = false
			var r ReplyLine
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil || !r.OK {
				return fmt.Errorf("events: %s", sc.Bytes())
			}
		}
		if _, err := w.Write(append(sc.Bytes(), '\n')); err != nil {
			return err
		}
	}
	switch {
	case ctx.Err() != nil:
		return nil // interrupted: the normal end
	case kicked != "":
		return fmt.Errorf("control socket: %s", kicked)
	case sc.Err() != nil:
		return fmt.Errorf("control socket: %w", sc.Err())
	}
	return nil // teaphone ended
}

func writeRequest(nc net.Conn, req Request) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := nc.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	return nil
}

// readErr turns the error a read ended with into Do's and Follow's: nil
// when ctx ended, "closed" at EOF.
func readErr(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err == nil:
		return errors.New("control socket: teaphone closed the connection before replying")
	}
	return fmt.Errorf("control socket: %w", err)
}
