//go:build unix

package conn

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sharedPipe makes a pipe with blocking ends, as a shell's, closed at the
// end of the test.
func sharedPipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	unix.CloseOnExec(p[0])
	unix.CloseOnExec(p[1])
	t.Cleanup(func() {
		unix.Close(p[0])
		unix.Close(p[1])
	})
	return p[0], p[1]
}

func isNonblocking(t *testing.T, fd int) bool {
	t.Helper()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatalf("F_GETFL on fd %d: %v", fd, err)
	}
	return flags&unix.O_NONBLOCK != 0
}

// TestPollFDData moves bytes through a blocking pipe with a pollFD at each
// end and leaves both ends blocking.
func TestPollFDData(t *testing.T) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	r, w := p[0], p[1]
	defer unix.Close(r)
	pr, pw := newPollFD(r, "/dev/stdin", false), newPollFD(w, "/dev/stdout", false)
	defer pr.release()
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	go func() {
		if n, err := pw.Write(data); n != len(data) || err != nil {
			t.Errorf("write: %d, %v", n, err)
		}
		pw.release()
		unix.Close(w) // the end of file the reader waits for
	}()
	h := sha256.New()
	buf := make([]byte, 100000)
	for {
		n, err := pr.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("the bytes differ")
	}
	if isNonblocking(t, r) {
		t.Fatal("the pipe's read end is non-blocking")
	}
}

// TestPollFDCancel: cancel ends a read of an empty pipe and a write to a
// full one, neither of which could return otherwise.
func TestPollFDCancel(t *testing.T) {
	r, w := sharedPipe(t)
	pr, pw := newPollFD(r, "/dev/stdin", false), newPollFD(w, "/dev/stdout", false)
	for _, c := range []struct {
		name string
		p    *pollFD
		op   func() (int, error)
	}{
		{"read of an empty pipe", pr, func() (int, error) { return pr.Read(make([]byte, 10)) }},
		{"write to a full pipe", pw, func() (int, error) { return pw.Write(make([]byte, 8<<20)) }},
	} {
		errc := make(chan error, 1)
		go func() {
			_, err := c.op()
			errc <- err
		}()
		// It is waiting: it cannot return by itself (a bounded check).
		select {
		case err := <-errc:
			t.Fatalf("%s returned before cancel: %v", c.name, err)
		case <-time.After(100 * time.Millisecond):
		}
		c.p.cancel()
		select {
		case err := <-errc:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("%s: %v, want os.ErrDeadlineExceeded", c.name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not return within 5s of cancel", c.name)
		}
		c.p.release()
	}
	if isNonblocking(t, r) || isNonblocking(t, w) {
		t.Fatal("the pipe was made non-blocking")
	}
}

// TestPollFDSocket reads and writes a blocking socket with MSG_DONTWAIT,
// leaving it blocking.
func TestPollFDSocket(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	p := newPollFD(fds[1], "/dev/stdin", true)
	defer p.release()
	if _, err := unix.Write(fds[0], []byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, err := p.Read(buf); err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if n, err := p.Write([]byte("pong")); n != 4 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if n, err := unix.Read(fds[0], buf); err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("peer read %q, %v", buf[:n], err)
	}
	unix.Shutdown(fds[0], unix.SHUT_WR)
	if n, err := p.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read %d, %v; want end of file", n, err)
	}
	if isNonblocking(t, fds[1]) {
		t.Fatal("the socket was made non-blocking")
	}
}
