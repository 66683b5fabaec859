package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// screen collects what gnc writes to a pseudo-terminal.
type screen struct {
	mu   sync.Mutex
	buf  []byte
	more chan struct{}
}

func watchPTY(ptmx *os.File) *screen {
	s := &screen{more: make(chan struct{})}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			s.mu.Lock()
			s.buf = append(s.buf, b[:n]...)
			close(s.more)
			s.more = make(chan struct{})
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.buf)
}

// wait waits until the output holds want.
func (s *screen) wait(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		got, more := string(s.buf), s.more
		s.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("the terminal shows %q; want %q", got, want)
		}
	}
}

func termios(t *testing.T, tty *os.File) unix.Termios {
	t.Helper()
	var tio *unix.Termios
	var err error
	raw(t, tty, func(fd int) { tio, err = unix.IoctlGetTermios(fd, unix.TCGETS) })
	if err != nil {
		t.Fatal(err)
	}
	return *tio
}

// onTerminal runs gnc with stdin, stdout and stderr on the terminal, as
// its controlling terminal.
func onTerminal(t *testing.T, tty *os.File, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(gncPath, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// lineServer accepts one client and hands its lines to the test.
func lineServer(t *testing.T) (port string, conns <-chan *net.TCPConn) {
	l, port := listen(t)
	ch := make(chan *net.TCPConn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(30 * time.Second))
		ch <- c.(*net.TCPConn)
	}()
	return port, ch
}

// TestLineMode: on a terminal gnc edits lines itself: edits and history
// reach the peer as the edited lines; what arrives during typing is shown
// above the line without garbling it, its escape sequences made visible;
// Ctrl-D half-closes; the terminal's settings are as before afterwards.
func TestLineMode(t *testing.T) {
	ptmx, tty := openPTY(t)
	before := termios(t, tty)
	scr := watchPTY(ptmx)
	port, conns := lineServer(t)
	cmd := onTerminal(t, tty, "--prompt", "> ", "--color", "never", "127.0.0.1", port)
	c := <-conns
	r := bufio.NewReader(c)
	line := func(want string) {
		t.Helper()
		got, err := r.ReadString('\n')
		if err != nil || got != want {
			t.Fatalf("the peer got %q, %v; want %q", got, err, want)
		}
	}
	scr.wait(t, "> ")
	ptmx.Write([]byte("world\x1b[Hhello \r")) // Home, then insert before
	line("hello world\n")
	ptmx.Write([]byte("half-typ"))
	scr.wait(t, "half-typ")
	c.Write([]byte("\x1b]0;pwned\x07news\n"))
	scr.wait(t, "^[]0;pwned^Gnews")
	ptmx.Write([]byte("ed\r"))
	line("half-typed\n")
	ptmx.Write([]byte("\x1b[A\x1b[A\r")) // Up twice: the first line again
	line("hello world\n")
	ptmx.Write([]byte("junk\x15bye\r")) // Ctrl-U kills the line
	line("bye\n")
	ptmx.Write([]byte{4}) // Ctrl-D on an empty line: end of input
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Fatalf("after Ctrl-D the peer read %v, want end of file", err)
	}
	c.Write([]byte("bye yourself\n"))
	c.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gnc: %v; screen %q", err, scr.String())
	}
	if strings.Contains(scr.String(), "\x1b]0;") {
		t.Fatal("the peer's escape sequence reached the terminal")
	}
	if after := termios(t, tty); after != before {
		t.Fatalf("terminal settings differ after gnc:\n%+v\n%+v", before, after)
	}
}

// TestTerminalRestored: the terminal's settings come back after SIGTERM
// and after a peer's reset, in line mode and in raw mode.
func TestTerminalRestored(t *testing.T) {
	for _, mode := range [][]string{nil, {"--raw"}} {
		for _, end := range []string{"SIGTERM", "reset"} {
			ptmx, tty := openPTY(t)
			before := termios(t, tty)
			scr := watchPTY(ptmx)
			port, conns := lineServer(t)
			cmd := onTerminal(t, tty, append(mode, "127.0.0.1", port)...)
			c := <-conns
			ptmx.Write([]byte("x"))
			if mode == nil {
				scr.wait(t, "x") // the editor echoes: it is running
			} else if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			if end == "SIGTERM" {
				cmd.Process.Signal(syscall.SIGTERM)
			} else {
				c.SetLinger(0)
				c.Close()
			}
			err := cmd.Wait()
			st := exitStatus(err)
			if end == "SIGTERM" && st != 143 || end == "reset" && st > 1 {
				t.Errorf("%v after %s: exit %d", mode, end, st)
			}
			if after := termios(t, tty); after != before {
				t.Errorf("%v after %s: terminal settings differ:\n%+v\n%+v", mode, end, before, after)
			}
		}
	}
}

// TestRawMode: --raw sends every keystroke at once, Ctrl-C as 0x03, and
// Enter ~ . disconnects with status 0; what arrives is shown unchanged.
func TestRawMode(t *testing.T) {
	ptmx, tty := openPTY(t)
	before := termios(t, tty)
	scr := watchPTY(ptmx)
	port, conns := lineServer(t)
	cmd := onTerminal(t, tty, "--raw", "127.0.0.1", port)
	c := <-conns
	ptmx.Write([]byte("a\x03\r~~")) // ~~ right after Enter: one ~
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "a\x03\r~" {
		t.Fatalf("the peer got %q, %v", got, err)
	}
	c.Write([]byte("\x1b[1mbold"))
	scr.wait(t, "\x1b[1mbold")
	ptmx.Write([]byte("\r~."))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("~. : %v", err)
	}
	if after := termios(t, tty); after != before {
		t.Fatalf("terminal settings differ after --raw:\n%+v\n%+v", before, after)
	}
}

// TestProgressOnTerminal: -P on a terminal shows a live line that reaches
// 100% for a file of known size and ends with one summary line; with
// stderr not a terminal it prints nothing.
func TestProgressOnTerminal(t *testing.T) {
	path, _ := randomFile(t, 8<<20, 3)
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) { io.Copy(io.Discard, c) })
	ptmx, tty := openPTY(t)
	scr := watchPTY(ptmx)
	f, _ := os.Open(path)
	defer f.Close()
	cmd := exec.Command(gncPath, "-P", "127.0.0.1", port)
	cmd.Stdin, cmd.Stderr = f, tty
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	scr.wait(t, "\n")
	out := scr.String()
	if !strings.HasSuffix(out, "\n") || strings.Count(strings.TrimRight(out, "\r\n"), "\n") != 0 {
		t.Fatalf("the terminal shows %q: want the line to reach 100%% and end with one line", out)
	}
	if !regexp.MustCompile(`sent 8388608 bytes, received 0 bytes in .*, 100% of 8388608\r\n$`).MatchString(out) {
		t.Fatalf("final line %q", out)
	}

	l, port = listen(t)
	serveOne(t, l, func(c *net.TCPConn) { io.Copy(io.Discard, c) })
	var stderr bytes.Buffer
	cmd = exec.Command(gncPath, "-P", "127.0.0.1", port)
	f2, _ := os.Open(path)
	defer f2.Close()
	cmd.Stdin, cmd.Stderr = f2, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 {
		t.Fatalf("-P with stderr not a terminal: %v, stderr %q", err, stderr.String())
	}
}

// TestBroker: with --broker each client's bytes reach the others, not
// itself, and stdout sees them all.
func TestBroker(t *testing.T) {
	out := newLockedBuffer()
	p := start(t, opts{stdout: out}, "-l", "--broker", "127.0.0.1", "0", "-v")
	port := p.port()
	var (
		cs [3]*net.TCPConn
		rs [3]*bufio.Reader
	)
	readLine := func(i int) string {
		t.Helper()
		got, err := rs[i].ReadString('\n')
		if err != nil {
			t.Fatalf("client %d got %q, %v", i, got, err)
		}
		return got
	}
	for i := range cs {
		cs[i] = dial(t, port)
		cs[i].SetDeadline(time.Now().Add(20 * time.Second))
		rs[i] = bufio.NewReader(cs[i])
		// "Connection received" comes before the client joins the
		// broker; a line of its own reaching stdout (a participant from
		// the start) says it has joined.
		hi := fmt.Sprintf("hi %d\n", i)
		cs[i].Write([]byte(hi))
		out.waitContains(t, hi)
		for j := range i {
			if got := readLine(j); got != hi {
				t.Fatalf("client %d got %q, want %q", j, got, hi)
			}
		}
	}
	cs[0].Write([]byte("from zero\n"))
	for i := 1; i < len(cs); i++ {
		if got := readLine(i); got != "from zero\n" {
			t.Fatalf("client %d got %q", i, got)
		}
	}
	cs[0].SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _ := rs[0].Read(make([]byte, 1)); n != 0 {
		t.Fatal("the sender got its own bytes back")
	}
	out.waitContains(t, "from zero\n")
	p.stop(syscall.SIGTERM, 143)
}
