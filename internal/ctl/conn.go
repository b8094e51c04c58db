package ctl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

var errLongLine = fmt.Errorf("request longer than %d bytes", MaxLine)

// conn is one client: a reader goroutine that runs its requests in order,
// and a writer goroutine that writes its queue of replies and events.
type conn struct {
	s    *Server
	nc   net.Conn
	wake chan struct{} // capacity 1: "the queue changed"

	mu     sync.Mutex
	q      [][]byte
	events bool // subscribed to events
	eof    bool // the client closed its side: write the replies, then stop
	ending bool // the server is closing: write what is queued, then stop
	kicked bool // over its queue: the notice is all that is left to write
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{s: s, nc: nc, wake: make(chan struct{}, 1)}
}

func (c *conn) subscribed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.events && !c.kicked && !c.eof && !c.ending
}

// send queues one line (with its newline) without waiting. A client over
// its queue is disconnected: what it had queued is replaced by a notice.
func (c *conn) send(line []byte) {
	c.mu.Lock()
	switch {
	case c.kicked:
	case len(c.q) >= c.s.queue:
		c.kicked = true
		notice, _ := json.Marshal(map[string]string{"event": "ctl",
			"error": fmt.Sprintf("disconnected: more than %d lines waited to be read", c.s.queue)})
		c.q = [][]byte{append(notice, '\n')}
		_ = c.nc.SetWriteDeadline(time.Now().Add(kickGrace))
		c.s.log.Warn("ctl: client too slow, disconnected", "queued", c.s.queue)
	default:
		c.q = append(c.q, line)
	}
	c.mu.Unlock()
	c.signal()
}

// signal wakes the writer.
func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// finish ends the connection for Server.Close: the reader stops, the writer
// writes what is queued (flushGrace at most) and closes it.
func (c *conn) finish() {
	c.mu.Lock()
	c.ending = true
	c.mu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(flushGrace))
	if uc, ok := c.nc.(*net.UnixConn); ok {
		_ = uc.CloseRead()
	} else {
		_ = c.nc.SetReadDeadline(time.Now())
	}
	c.signal()
}

// write is the connection's writer goroutine. Its end closes the
// connection, which ends the reader too.
func (c *conn) write() {
	defer c.s.wg.Done()
	defer c.s.drop(c)
	defer c.nc.Close()
	for {
		c.mu.Lock()
		batch := c.q
		c.q = nil
		done := c.kicked || c.ending || c.eof
		c.mu.Unlock()
		if len(batch) == 0 {
			if done {
				return
			}
			<-c.wake
			continue
		}
		bufs := net.Buffers(batch)
		if _, err := bufs.WriteTo(c.nc); err != nil {
			return
		}
	}
}

// read is the connection's reader goroutine: it runs each request line in
// turn. A malformed line gets an error reply; the connection stays up.
func (c *conn) read() {
	defer c.s.wg.Done()
	defer func() {
		c.mu.Lock()
		c.eof = true
		c.mu.Unlock()
		c.signal()
	}()
	br := bufio.NewReader(c.nc)
	for {
		line, err := readLine(br)
		switch {
		case errors.Is(err, errLongLine):
			c.reply(nil, nil, err)
			continue
		case len(bytes.TrimSpace(line)) > 0:
			c.handle(line)
		}
		if err != nil {
			return
		}
	}
}

// readLine returns the next line without its newline. A line longer than
// MaxLine is read to its end and dropped with errLongLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	long := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			line = append(line, chunk...)
			if len(line) > MaxLine+1 {
				long, line = true, nil
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if long && err == nil {
			return nil, errLongLine
		}
		return bytes.TrimRight(line, "\r\n"), err
	}
}

// handle runs one request and queues its reply.
func (c *conn) handle(line []byte) {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		c.reply(nil, nil, fmt.Errorf("malformed request (want one JSON object per line, like {\"id\":\"1\",\"cmd\":\"hangup\"}): %v", err))
		return
	}
	cmd := strings.TrimSpace(req.Cmd)
	switch {
	case cmd == "":
		c.reply(req.ID, nil, errors.New(`missing "cmd"`))
	case strings.EqualFold(cmd, "events"):
		c.mu.Lock()
		c.events = true
		c.mu.Unlock()
		c.reply(req.ID, Result{"events": true}, nil)
	default:
		res, err := c.s.h.Do(c.s.ctx, req)
		c.reply(req.ID, res, err)
	}
}

// reply queues {"id":…,"ok":…} with the fields of res or the error.
func (c *conn) reply(id json.RawMessage, res Result, err error) {
	c.send(Reply(id, res, err))
}

// Reply encodes a reply line (with its newline): id and ok first, then the
// error or the result's fields.
func Reply(id json.RawMessage, res Result, err error) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	if len(id) > 0 && json.Valid(id) {
		b.WriteString(`"id":`)
		b.Write(id)
		b.WriteByte(',')
	}
	if err != nil {
		msg, _ := json.Marshal(err.Error())
		b.WriteString(`"ok":false,"error":`)
		b.Write(msg)
	} else {
		b.WriteString(`"ok":true`)
		delete(res, "id")
		delete(res, "ok")
		delete(res, "error")
		if len(res) > 0 {
			rest, merr := json.Marshal(res)
			if merr != nil {
				rest, _ = json.Marshal(map[string]string{"result_error": merr.Error()})
			}
			b.WriteByte(',')
			b.Write(rest[1 : len(rest)-1])
		}
	}
	b.WriteString("}\n")
	return b.Bytes()
}
