package conn_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gnc/conn"
)

// TestUnixAbstract: an abstract name listens and is dialed with no file
// anywhere, and the peer's credentials are this process's.
func TestUnixAbstract(t *testing.T) {
	name := fmt.Sprintf("@gnc-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	l := unixListen(t, name, conn.UnixListenOptions{})
	d, err := conn.NewUnixDialer(name, false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := l.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, x := range []any{c, s} {
		cred, ok := x.(interface{ PeerCred() (conn.PeerCred, bool) }).PeerCred()
		if !ok || cred.PID != os.Getpid() || cred.UID != os.Getuid() || cred.GID != os.Getgid() {
			t.Fatalf("PeerCred of %T = %+v, %v; want this process's", x, cred, ok)
		}
	}
	// A second listener on the same name is in use.
	if _, err := conn.ListenUnix(name, conn.UnixListenOptions{}); err == nil {
		t.Fatal("a second listener on a live abstract name")
	}
}

// TestUnixLiveNotProbed: on Linux a live socket is found in
// /proc/net/unix, so the check never connects to it: a server that
// serves one client is not spent on the check.
func TestUnixLiveNotProbed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	live, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if _, err := conn.ListenUnix(path, conn.UnixListenOptions{}); err == nil {
		t.Fatal("ListenUnix on a live socket succeeded")
	}
	live.(*net.UnixListener).SetDeadline(time.Now().Add(100 * time.Millisecond))
	if c, err := live.Accept(); err == nil {
		c.Close()
		t.Fatal("the check connected to the live socket")
	}
}
