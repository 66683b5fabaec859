package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
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

// echoOn reports whether the terminal echoes what is typed.
func echoOn(t *testing.T, tty *os.File) bool {
	var tio *unix.Termios
	var err error
	raw(t, tty, func(fd int) { tio, err = unix.IoctlGetTermios(fd, unix.TCGETS) })
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// promptGNC runs gnc with the pseudo-terminal as its controlling terminal
// and stderr, as a user at a terminal would, and stdin from a string.
func promptGNC(t *testing.T, tty *os.File, stdin string, args ...string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	out := newLockedBuffer()
	cmd := exec.Command(gncPath, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), out, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 2}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, out
}

// readUntil reads the terminal's output until it holds want.
func readUntil(t *testing.T, ptmx *os.File, want string) string {
	t.Helper()
	ptmx.SetReadDeadline(time.Now().Add(20 * time.Second))
	var got []byte
	buf := make([]byte, 256)
	for !strings.Contains(string(got), want) {
		n, err := ptmx.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("the terminal shows %q, then %v; want %q", got, err, want)
		}
	}
	return string(got)
}

// TestProxyPasswordPrompt: -P asks on the terminal without echo, puts
// the echo back after the line, and after Ctrl-C too.
func TestProxyPasswordPrompt(t *testing.T) {
	target := replyServer(t)
	_, addr := proxyServer(t, "socks5,auth=alice:s3cret")
	ptmx, tty := openPTY(t)
	if !echoOn(t, tty) {
		t.Skip("the new terminal does not echo")
	}
	cmd, out := promptGNC(t, tty, "question", "--proxy", addr, "--proxy-user", "alice", "127.0.0.1", target)
	readUntil(t, ptmx, "gnc: password for alice at socks5://"+addr+": ")
	if echoOn(t, tty) {
		t.Error("the terminal echoes while the password is typed")
	}
	ptmx.Write([]byte("s3cret\n"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gnc: %v; out %q", err, out.bytes())
	}
	if string(out.bytes()) != "reply to question" {
		t.Errorf("out %q", out.bytes())
	}
	if !echoOn(t, tty) {
		t.Error("the terminal's echo was not put back")
	}
	ptmx.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	rest, _ := io.ReadAll(ptmx)
	if strings.Contains(string(rest), "s3cret") {
		t.Errorf("the password was echoed: %q", rest)
	}

	cmd, _ = promptGNC(t, tty, "", "--proxy", addr, "--proxy-user", "alice", "127.0.0.1", target)
	readUntil(t, ptmx, "gnc: password for alice")
	ptmx.Write([]byte{3}) // Ctrl-C, a SIGINT to the terminal's process group
	err := cmd.Wait()
	if st := exitStatus(err); st != 130 {
		t.Errorf("after Ctrl-C: exit %d (%v), want 130", st, err)
	}
	if !echoOn(t, tty) {
		t.Error("the terminal's echo was not put back after Ctrl-C")
	}
}
