package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair; gnc gets the terminal side.
func openPTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var n int
	var ierr error
	raw(t, ptmx, func(fd int) {
		if ierr = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); ierr == nil {
			n, ierr = unix.IoctlGetInt(fd, unix.TIOCGPTN)
		}
	})
	if ierr != nil {
		t.Skipf("pseudo-terminal setup: %v", ierr)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the terminal side: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return ptmx, tty
}

// raw runs f on f's descriptor without File.Fd, which would change the
// descriptor's blocking mode.
func raw(t *testing.T, f *os.File, fn func(fd int)) {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	sc.Control(func(fd uintptr) { fn(int(fd)) })
}

func nonblocking(t *testing.T, f *os.File) bool {
	var flags int
	raw(t, f, func(fd int) { flags, _ = unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0) })
	return flags&unix.O_NONBLOCK != 0
}

// TestTerminalPeerEOF: with a terminal on stdin, the peer's end of file
// ends the session (nobody can be expected to press Ctrl-D), and the
// terminal is left in blocking mode.
func TestTerminalPeerEOF(t *testing.T) {
	_, tty := openPTY(t)
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) { c.Write([]byte("bye\n")) })
	out, stderr, st := runGNC(t, opts{stdin: tty}, "127.0.0.1", port)
	if st != 0 || out != "bye\n" || stderr != "" {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
	if nonblocking(t, tty) {
		t.Fatal("gnc left the terminal non-blocking")
	}
}

// TestStdinFlagsKept: gnc splices from a pipe on stdin without making it
// non-blocking, since other processes may share it.
func TestStdinFlagsKept(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) { io.Copy(io.Discard, c) })
	p := start(t, opts{stdin: pr}, "127.0.0.1", port)
	pw.Write([]byte("data"))
	pw.Close()
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
	if nonblocking(t, pr) {
		t.Fatal("gnc left its stdin pipe non-blocking")
	}
}

// TestTerminalStdout: what the peer sends reaches a terminal on stdout,
// which is left blocking.
func TestTerminalStdout(t *testing.T) {
	ptmx, tty := openPTY(t)
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) { c.Write([]byte("to the terminal\n")) })
	p := start(t, opts{stdout: tty}, "127.0.0.1", port)
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
	ptmx.SetReadDeadline(time.Now().Add(10 * time.Second))
	want := "to the terminal\r\n" // the terminal turns LF into CRLF
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(ptmx, buf); err != nil || string(buf) != want {
		t.Fatalf("the terminal shows %q, %v", buf, err)
	}
	if nonblocking(t, tty) {
		t.Fatal("gnc left the terminal non-blocking")
	}
}
