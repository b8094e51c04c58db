package peertest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// baresip's ctrl_tcp speaks netstrings, "<decimal length>:<JSON>,", both ways.

// maxNetstring bounds one message (help output is a few KB).
const maxNetstring = 1 << 20

func writeNetstring(w io.Writer, b []byte) error {
	_, err := fmt.Fprintf(w, "%d:%s,", len(b), b)
	return err
}

func readNetstring(r *bufio.Reader) ([]byte, error) {
	n, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(n[:len(n)-1])
	if err != nil || size < 0 || size > maxNetstring {
		return nil, fmt.Errorf("bad netstring length %q", n)
	}
	b := make([]byte, size+1)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if b[size] != ',' {
		return nil, errors.New("netstring without trailing ','")
	}
	return b[:size], nil
}

// ctrlRequest is a command sent to ctrl_tcp.
type ctrlRequest struct {
	Command string `json:"command"`
	Params  string `json:"params,omitempty"`
	Token   string `json:"token"`
}

// ctrlMessage is a response or an event from ctrl_tcp.
type ctrlMessage struct {
	Response   bool   `json:"response"`
	Event      bool   `json:"event"`
	OK         bool   `json:"ok"`
	Data       string `json:"data"`
	Token      string `json:"token"`
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
}
