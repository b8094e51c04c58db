package phone

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOutOfFilesKeepsThePhoneUp runs a phone in a child process whose
// file limit is lowered to what it has open, then raised again: while it is
// starved an INVITE gets 503 (no descriptor for its RTP sockets) and a TCP
// connection waits in the backlog; once descriptors are free again that
// connection is served and the next call is answered. Without the patient
// listener sipgo's TCP Serve loop would have ended at the first EMFILE.
func TestOutOfFilesKeepsThePhoneUp(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutOfFilesChild$", "-test.v")
	cmd.Env = append(os.Environ(), "TEAPHONE_FD_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("child:\n%s", log.String())
		}
	})
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(prefix string) string {
		t.Helper()
		timeout := time.After(15 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("child ended before %q", prefix)
				}
				log.WriteString(l + "\n")
				if rest, found := strings.CutPrefix(l, prefix); found {
					return rest
				}
			case <-timeout:
				t.Fatalf("child did not say %q", prefix)
			}
		}
	}
	addr := expect("FDCHILD starved ")

	if code, err := sendRaw("udp", addr, rawInvite(addr, "udp", 1)); err != nil || code != 503 {
		t.Errorf("INVITE while starved: %d (%v), want 503", code, err)
	}
	tcp, err := net.Dial("tcp", addr) // the kernel completes it; accept cannot yet
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	opts := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bKfd1\r\nMax-Forwards: 70\r\n"+
		"From: <sip:t@test.invalid>;tag=fd1\r\nTo: <sip:%s>\r\nCall-ID: fd-opts\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		addr, tcp.LocalAddr(), addr)
	if _, err := io.WriteString(tcp, opts); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // several failed accepts
	if _, err := io.WriteString(stdin, "free\n"); err != nil {
		t.Fatal(err)
	}
	expect("FDCHILD freed")
	_ = tcp.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := bufio.NewReader(tcp).ReadString('\n')
	if err != nil || !strings.HasPrefix(res, "SIP/2.0 200 ") {
		t.Errorf("OPTIONS over the connection made while starved: %q (%v), want 200", res, err)
	}
	if code, err := sendRaw("udp", addr, rawInvite(addr, "udp", 2)); err != nil || code != 200 {
		t.Errorf("INVITE once descriptors are free: %d (%v), want 200", code, err)
	}
}

// TestOutOfFilesChild is the child of TestOutOfFilesKeepsThePhoneUp.
func TestOutOfFilesChild(t *testing.T) {
	if os.Getenv("TEAPHONE_FD_CHILD") != "1" {
		t.Skip("run by TestOutOfFilesKeepsThePhoneUp")
	}
	a := newTestPhone(t, Options{Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	highest := 0
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			highest = max(highest, n)
		}
	}
	// A limit a little above what is open, then every descriptor below it
	// taken: the kernel gives the lowest free number, so gaps are filled.
	starved := lim
	starved.Cur = uint64(highest + 64)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &starved); err != nil {
		t.Fatal(err)
	}
	var held []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !isOutOfFiles(err) {
				t.Fatal(err)
			}
			break
		}
		held = append(held, f)
	}
	fmt.Println("FDCHILD starved " + a.LocalAddr())
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	for _, f := range held {
		f.Close()
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	fmt.Println("FDCHILD freed " + strings.TrimSpace(line))
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent is done
}

// rawInvite is an INVITE with an offer to sip:bob@addr, sent over network
// from an address the answer finds through rport.
func rawInvite(addr, network string, n int) []byte {
	body := string(peerSDP())
	return []byte(fmt.Sprintf("INVITE sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:9;rport;branch=z9hG4bKfdinv%d\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:t@test.invalid>;tag=fd%d\r\nTo: <sip:bob@%s>\r\nCall-ID: fd-inv-%d\r\n"+
		"CSeq: 1 INVITE\r\nContact: <sip:t@127.0.0.1:9>\r\nContent-Type: application/sdp\r\nContent-Length: %s\r\n\r\n%s",
		addr, strings.ToUpper(network), n, n, addr, n, strconv.Itoa(len(body)), body))
}
