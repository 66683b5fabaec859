package conn

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
)

// TestDialTriesEachAddress: a host's addresses are tried in turn; a
// refusal on the first does not stop the second, and when all fail the
// error names each attempt.
func TestDialTriesEachAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	d := &TCPDialer{Host: "twohomed", Port: port}
	// 127.0.0.2 is loopback too, where nothing listens on this port.
	d.pinned = []net.IP{net.ParseIP("127.0.0.2"), net.ParseIP("127.0.0.1")}
	c, err := d.Dial(context.Background())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if got := c.RemoteAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.1" {
		t.Fatalf("connected to %s", got)
	}
	c.Close()

	d.pinned = []net.IP{net.ParseIP("127.0.0.2"), net.ParseIP("127.0.0.3")}
	_, err = d.Dial(context.Background())
	var de *DialError
	if !errors.As(err, &de) || len(de.Attempts) != 2 || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err %v", err)
	}
	if got, want := de.AttemptError(0), "connect to twohomed (127.0.0.2) port "; got[:len(want)] != want {
		t.Fatalf("attempt 0: %q", got)
	}
}
