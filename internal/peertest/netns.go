package peertest

import "os/exec"

// Netns is a network namespace a peer can run in instead of the machine's
// own network. internal/netlab's Lab.StartKamailio supplies one for a
// namespace of its lab.
type Netns interface {
	// Command returns a command that runs name with args inside the
	// namespace (e.g. through "ip netns exec"), not yet started.
	Command(name string, args ...string) *exec.Cmd
	// Do runs f on an OS thread inside the namespace and waits for it;
	// sockets f opens stay in the namespace.
	Do(f func() error) error
}
