//go:build unix

package conn_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gnc/conn"
)

// staleSocket leaves a socket file at path that nothing accepts on, as a
// server that died without cleaning up does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("no stale socket at %s: %v", path, err)
	}
}

func unixListen(t *testing.T, path string, o conn.UnixListenOptions) *conn.UnixListener {
	t.Helper()
	l, err := conn.ListenUnix(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// roundTripUnix connects to path, sends a line and checks the listener's
// conn receives it.
func roundTripUnix(t *testing.T, l *conn.UnixListener, path string) {
	t.Helper()
	c, err := net.Dial("unix", path)
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
	if _, ok := s.(interface{ OwnSocket() bool }); !ok {
		t.Fatalf("an accepted conn is %T, not an own socket", s)
	}
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func unixErr(t *testing.T, err error, want error) *conn.UnixError {
	t.Helper()
	var ue *conn.UnixError
	if !errors.As(err, &ue) || !errors.Is(err, want) {
		t.Fatalf("error %v (%T), want a *conn.UnixError for %v", err, err, want)
	}
	if ue.Hint == "" {
		t.Errorf("error %v has no hint", err)
	}
	return ue
}

func TestUnixListenStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	staleSocket(t, path)
	l := unixListen(t, path, conn.UnixListenOptions{})
	roundTripUnix(t, l, path)
}

func TestUnixListenLive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	live, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	_, err = conn.ListenUnix(path, conn.UnixListenOptions{})
	unixErr(t, err, syscall.EADDRINUSE)
	// The live socket is still there and still serves.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("the live socket was harmed: %v", err)
	}
	c.Close()
}

func TestUnixListenLiveDatagram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	live, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	for _, dgram := range []bool{false, true} {
		_, err = conn.ListenUnix(path, conn.UnixListenOptions{Datagram: dgram})
		unixErr(t, err, syscall.EADDRINUSE)
	}
}

func TestUnixListenNotSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, o := range []conn.UnixListenOptions{{}, {Unlink: true}, {Datagram: true}, {Mode: 0o600}} {
		_, err := conn.ListenUnix(path, o)
		var ue *conn.UnixError
		if !errors.As(err, &ue) || ue.Op != "bind to" {
			t.Fatalf("ListenUnix(%+v) on a regular file: %v", o, err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "precious" {
			t.Fatalf("the file was touched: %q, %v", b, err)
		}
	}
}

func TestUnixListenUnlink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	live, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	live.SetUnlinkOnClose(false)
	defer live.Close()
	l := unixListen(t, path, conn.UnixListenOptions{Unlink: true})
	roundTripUnix(t, l, path)
}

func TestUnixListenMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sock")
	l := unixListen(t, path, conn.UnixListenOptions{Mode: 0o600})
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("socket file %v, %v; want a socket with mode 0600", fi.Mode(), err)
	}
	roundTripUnix(t, l, path)
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("the directory holds %d entries, want only the socket", len(ents))
	}
	l.Close()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Close: %v, want the socket file gone", err)
	}
}

// TestUnixCloseRemovesOwnOnly: Close removes the socket file, unless
// another program replaced it meanwhile.
func TestUnixCloseRemovesOwnOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	l, err := conn.ListenUnix(path, conn.UnixListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Close: %v, want the file gone", err)
	}
	l, err = conn.ListenUnix(path, conn.UnixListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	os.WriteFile(path, []byte("someone else's"), 0o644)
	l.Close()
	if b, err := os.ReadFile(path); err != nil || string(b) != "someone else's" {
		t.Fatalf("Close removed a file it did not make: %q, %v", b, err)
	}
}

func TestUnixDialErrors(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	staleSocket(t, stale)
	for _, tt := range []struct {
		path string
		want error
	}{
		{filepath.Join(dir, "missing.sock"), fs.ErrNotExist},
		{stale, syscall.ECONNREFUSED},
	} {
		d, err := conn.NewUnixDialer(tt.path, false)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Open(context.Background())
		ue := unixErr(t, err, tt.want)
		if ue.Op != "connect to" || ue.Path != tt.path {
			t.Errorf("error %v: want it to name connect and %s", err, tt.path)
		}
	}
}

// TestUnixgram: a datagram dialer binds a socket file of its own, the
// listener's first sender becomes its peer and hears its replies, and
// the dialer's file is gone once it closes.
func TestUnixgram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.sock")
	l := unixListen(t, path, conn.UnixListenOptions{Datagram: true})
	d, err := conn.NewUnixDialer(path, true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	local := c.(interface{ LocalAddr() net.Addr }).LocalAddr().String()
	if fi, err := os.Lstat(local); err != nil || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("the dialer's own socket %q: %v", local, err)
	}
	if _, err := c.Write([]byte("one")); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("two"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := l.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	l.Close()
	buf := make([]byte, 100)
	for _, want := range []string{"one", "two"} {
		n, err := p.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("listener read %q, %v; want %q", buf[:n], err, want)
		}
	}
	p.Write([]byte("reply"))
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "reply" {
		t.Fatalf("dialer read %q, %v", buf[:n], err)
	}
	c.Close()
	if _, err := os.Lstat(local); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Close the dialer's socket file: %v, want it gone", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after the listener closed its socket file: %v, want it gone", err)
	}
}
