package tty

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair of the given size; the code under
// test gets the terminal side.
func openPTY(t *testing.T, cols, rows int) (ptmx, tty *os.File, name string) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var n int
	var ierr error
	control(t, ptmx, func(fd int) {
		if ierr = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); ierr == nil {
			n, ierr = unix.IoctlGetInt(fd, unix.TIOCGPTN)
		}
		if ierr == nil {
			ierr = unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(rows), Col: uint16(cols)})
		}
	})
	if ierr != nil {
		t.Skipf("pseudo-terminal setup: %v", ierr)
	}
	name = fmt.Sprintf("/dev/pts/%d", n)
	tty, err = os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the terminal side: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return ptmx, tty, name
}

// control runs fn on f's descriptor without File.Fd, which would make it
// blocking.
func control(t *testing.T, f *os.File, fn func(fd int)) {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	sc.Control(func(fd uintptr) { fn(int(fd)) })
}

func termiosOf(t *testing.T, f *os.File) unix.Termios {
	t.Helper()
	var tio *unix.Termios
	var err error
	control(t, f, func(fd int) { tio, err = unix.IoctlGetTermios(fd, unix.TCGETS) })
	if err != nil {
		t.Fatal(err)
	}
	return *tio
}

func fdOf(t *testing.T, f *os.File) int {
	var n int
	control(t, f, func(fd int) { n = fd })
	return n
}

// screenOf feeds what the terminal shows into a vt of width cols.
func screenOf(t *testing.T, ptmx *os.File, cols int) *vt {
	v := newVT(cols, 50)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			v.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	return v
}

type lineResult struct {
	line string
	err  error
}

// lines reads r's lines into a channel until an error.
func lines(r io.Reader) <-chan lineResult {
	ch := make(chan lineResult, 16)
	go func() {
		br := bufio.NewReader(r)
		for {
			s, err := br.ReadString('\n')
			if s != "" || err != nil {
				ch <- lineResult{s, err}
			}
			if err != nil {
				close(ch)
				return
			}
		}
	}()
	return ch
}

func expectLine(t *testing.T, ch <-chan lineResult, want string, wantErr error) {
	t.Helper()
	select {
	case r := <-ch:
		if r.line != want || !errors.Is(r.err, wantErr) && (r.err != nil || wantErr != nil) {
			t.Fatalf("got %q, %v; want %q, %v", r.line, r.err, want, wantErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no line; want %q", want)
	}
}

func lastRows(rows []string, n int) []string { return rows[max(0, len(rows)-n):] }

// TestPTYLineEditing types on a real pseudo-terminal: edits and history
// give the edited lines, the peer's data printed while a line is half
// typed leaves that line whole below it, an escape sequence from the
// peer shows as ^[, Ctrl-D ends input, and the terminal's settings are
// then what they were.
func TestPTYLineEditing(t *testing.T) {
	ptmx, tty, _ := openPTY(t, 40, 24)
	before := termiosOf(t, tty)
	v := screenOf(t, ptmx, 40)
	e := NewLineEditor(fdOf(t, tty), tty, tty, LineOptions{Prompt: "> "})
	restore, err := e.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	raw := termiosOf(t, tty)
	if raw.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 || raw.Oflag != before.Oflag {
		t.Fatalf("not raw on input, or output changed: lflag %#x oflag %#x (was %#x)", raw.Lflag, raw.Oflag, before.Oflag)
	}
	got := lines(e.Reader())
	typed := func(s string) {
		t.Helper()
		if _, err := ptmx.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	typed("helo\x1b[Dl\x1b[C!\r")
	expectLine(t, got, "hello!\n", nil)
	typed("hello world\x17there\r")
	expectLine(t, got, "hello there\n", nil)
	typed("junk\x15x\r")
	expectLine(t, got, "x\n", nil)
	typed("\x1b[A\x1b[A\x01> \r")
	expectLine(t, got, "> hello there\n", nil)

	typed("half ty\x1b[D")
	v.waitFor(t, "the half-typed line", func(rows []string, row, col int) bool {
		return rows[row] == "> half ty" && col == 8
	})
	if _, err := e.Output().Write([]byte("250 ok \x1b[2J\x1b]0;pwned\x07\n")); err != nil {
		t.Fatal(err)
	}
	v.waitFor(t, "the peer's line above the half-typed one", func(rows []string, row, col int) bool {
		return strings.Join(lastRows(rows, 2), "|") == `250 ok ^[[2J^[]0;pwned^G|> half ty` && row == len(rows)-1 && col == 8
	})
	typed("p\r")
	expectLine(t, got, "half tpy\n", nil)

	typed("\x04")
	expectLine(t, got, "", io.EOF)
	if after := termiosOf(t, tty); after != before {
		t.Errorf("terminal settings changed:\nbefore %+v\nafter  %+v", before, after)
	}
	v.check(t)
}

// TestPTYInterrupt: Ctrl-C ends input with ErrInterrupt and restores the
// terminal; a restore from elsewhere afterwards changes nothing.
func TestPTYInterrupt(t *testing.T) {
	ptmx, tty, _ := openPTY(t, 80, 24)
	before := termiosOf(t, tty)
	screenOf(t, ptmx, 80)
	e := NewLineEditor(fdOf(t, tty), tty, tty, LineOptions{})
	restore, err := e.Start()
	if err != nil {
		t.Fatal(err)
	}
	got := lines(e.Reader())
	ptmx.Write([]byte("abc\x03"))
	expectLine(t, got, "", ErrInterrupt)
	if after := termiosOf(t, tty); after != before {
		t.Errorf("terminal settings changed after Ctrl-C")
	}
	if err := restore(); err != nil {
		t.Errorf("second restore: %v", err)
	}
	if after := termiosOf(t, tty); after != before {
		t.Errorf("terminal settings changed after a second restore")
	}
}

// TestPTYRestoreWhileReading: the restore function, called from another
// goroutine (as a signal handler's would be) while a line is being read,
// puts the settings back.
func TestPTYRestoreWhileReading(t *testing.T) {
	ptmx, tty, _ := openPTY(t, 80, 24)
	before := termiosOf(t, tty)
	v := screenOf(t, ptmx, 80)
	e := NewLineEditor(fdOf(t, tty), tty, tty, LineOptions{Prompt: "$ "})
	restore, err := e.Start()
	if err != nil {
		t.Fatal(err)
	}
	got := lines(e.Reader())
	ptmx.Write([]byte("partial"))
	v.waitFor(t, "the partial line", func(rows []string, row, col int) bool { return rows[row] == "$ partial" })
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	if after := termiosOf(t, tty); after != before {
		t.Errorf("terminal settings changed")
	}
	v.waitFor(t, "the line taken off the screen", func(rows []string, row, col int) bool { return rows[row] == "" && col == 0 })
	tty.SetReadDeadline(time.Now()) // what cancelling stdin does
	select {
	case r := <-got:
		if r.err == nil {
			t.Errorf("after restore and cancel: %q, %v", r.line, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadLine did not return")
	}
}

// TestPTYRestoreOnSignal runs the editor in a child process that
// restores the terminal from its SIGTERM handler, and checks the
// terminal's settings after the child is killed that way.
func TestPTYRestoreOnSignal(t *testing.T) {
	if os.Getenv("GNC_TTY_CHILD") != "" {
		signalChild()
		return
	}
	ptmx, tty, name := openPTY(t, 80, 24)
	before := termiosOf(t, tty)
	screenOf(t, ptmx, 80)
	cmd := exec.Command(os.Args[0], "-test.run=^TestPTYRestoreOnSignal$")
	cmd.Env = append(os.Environ(), "GNC_TTY_CHILD="+name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := bufio.NewReader(out)
	if line, err := ready.ReadString('\n'); line != "raw\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	if termiosOf(t, tty).Lflag&unix.ICANON != 0 {
		t.Error("the child's terminal is not raw")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 143 {
		t.Fatalf("child: %v", err)
	}
	if after := termiosOf(t, tty); after != before {
		t.Errorf("terminal settings changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

// signalChild is TestPTYRestoreOnSignal's child: gnc's exit path on a
// signal, in small.
func signalChild() {
	f, err := os.OpenFile(os.Getenv("GNC_TTY_CHILD"), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		os.Exit(3)
	}
	sc, _ := f.SyscallConn()
	var fd int
	sc.Control(func(u uintptr) { fd = int(u) })
	e := NewLineEditor(fd, f, f, LineOptions{Prompt: "child> "})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	restore, err := e.Start()
	if err != nil {
		os.Exit(4)
	}
	go func() {
		<-sigs
		restore()
		os.Exit(143)
	}()
	fmt.Println("raw")
	e.ReadLine()
	os.Exit(5)
}

// TestPTYRawEscape: in raw mode Ctrl-C reaches the reader as 0x03, and
// Enter ~ . disconnects; the settings are restored afterwards.
func TestPTYRawEscape(t *testing.T) {
	ptmx, tty, _ := openPTY(t, 80, 24)
	before := termiosOf(t, tty)
	restore, err := MakeRaw(fdOf(t, tty))
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	var help strings.Builder
	f := NewEscapeFilter(tty, &help)
	ptmx.Write([]byte("ls\x03\r~?~~\x1a\r~."))
	got, err := readFiltered(f, 64)
	if err != ErrDisconnect || string(got) != "ls\x03\r~\x1a\r" {
		t.Errorf("raw keys: %q, %v", got, err)
	}
	if help.String() != EscapeHelp {
		t.Errorf("help: %q", help.String())
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	if after := termiosOf(t, tty); after != before {
		t.Errorf("terminal settings changed")
	}
}
