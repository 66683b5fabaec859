//go:build unix

package conn

// How gnc reads fd 0 and writes fd 1 on Unix without ever changing their
// status flags (the flags live on an open file description that the shell
// and the rest of a pipeline share):
//
//   - A pipe, FIFO or terminal is opened again where the platform allows it
//     (reopen: Linux's /proc/self/fd/N), which gives gnc a private open file
//     description of the same pipe or terminal. That one is made
//     non-blocking, so Go's poller waits on it, the engine splices it, and
//     deadlines cancel I/O on it, while fd N stays exactly as it was.
//   - A regular file, and /dev/null, are used through a duplicate of fd N.
//     A duplicate shares the file position, so stdin is read (or spliced)
//     from where it stands and advances as read(2) would; and neither kind
//     ever blocks for long, so blocking I/O needs no cancelling.
//   - Anything else (a socket, which /proc cannot open again; a pipe or
//     terminal that could not be reopened: no /proc, no permission, or a
//     system whose /dev/fd/N only duplicates) is used on fd N itself, in
//     blocking mode, with poll(2) before every read and write, on fd N and
//     on a pipe of gnc's own that cancel makes readable, so that cancelling
//     never leaves a goroutine blocked. A socket is then read and written
//     with MSG_DONTWAIT, which never blocks whatever the descriptor's mode;
//     anything else with read(2), which poll has just said will not block,
//     and write(2) of at most atomicWrite bytes, which poll's answer
//     guarantees room for in a pipe. This path moves bytes through user
//     space (no splice), and a terminal's write may still wait a little.

import (
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

func isTerminal(fd int) bool { return term.IsTerminal(fd) }

// openEnd opens fd (0 for input, 1 for output) for the engine, or returns
// nil when fd is closed.
func openEnd(fd int, input bool) *end {
	name := "/dev/stdout" // ui recognises a broken stdout by this name
	if input {
		name = "/dev/stdin"
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil
	}
	tty := isTerminal(fd)
	mode := st.Mode & unix.S_IFMT
	switch {
	case mode == unix.S_IFIFO || tty:
		if f := reopen(fd, name, input, &st); f != nil {
			if mode == unix.S_IFIFO {
				growPipe(f)
			}
			return fileEnd(fd, f, tty)
		}
	case mode == unix.S_IFREG || mode == unix.S_IFCHR && isDevNull(&st):
		if dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3); err == nil {
			return fileEnd(fd, os.NewFile(uintptr(dup), name), tty)
		}
	}
	return pollEnd(fd, name, tty, mode == unix.S_IFSOCK)
}

func isDevNull(st *unix.Stat_t) bool {
	var null unix.Stat_t
	return unix.Stat("/dev/null", &null) == nil && null.Mode&unix.S_IFMT == unix.S_IFCHR && null.Rdev == st.Rdev
}

// fileEnd is an end read or written through f, a descriptor gnc opened
// (a private description or a duplicate) for fd.
func fileEnd(fd int, f *os.File, tty bool) *end {
	past := time.Unix(1, 0)
	var once sync.Once
	e := &end{rw: f, tty: tty, interruptible: true}
	// A file that Go's poller does not hold (a regular file, /dev/null)
	// has no deadlines, but its I/O never blocks for long either.
	e.cancel = func() { f.SetDeadline(past) }
	e.release = func() {
		once.Do(func() {
			f.SetDeadline(past)
			f.Close()
		})
	}
	e.detach = func() error {
		e.release()
		return nullOnto(fd)
	}
	return e
}

// pollEnd is an end read or written on fd itself (see the top of the file).
func pollEnd(fd int, name string, tty, socket bool) *end {
	p := newPollFD(fd, name, socket)
	e := &end{rw: p, tty: tty, interruptible: p.wake[0] >= 0, cancel: p.cancel, release: p.release}
	e.detach = func() error {
		p.release()
		return nullOnto(fd)
	}
	return e
}

// nullOnto points fd at /dev/null, atomically, so that its number stays
// taken and whatever it referred to is no longer held through it.
func nullOnto(fd int) error {
	null, err := unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/dev/null", Err: err}
	}
	defer unix.Close(null)
	if err := dupOnto(null, fd); err != nil {
		return os.NewSyscallError("dup2", err)
	}
	return nil
}

// pollFD reads or writes a descriptor gnc shares, leaving it in whatever
// mode it is, with poll(2) before each system call so that cancel can
// interrupt the wait.
type pollFD struct {
	fd     int
	name   string
	socket bool
	wake   [2]int // a pipe of gnc's own, readable once cancelled; -1: none

	mu        sync.Mutex
	users     int // reads and writes in progress
	cancelled bool
	released  bool
	wakeGone  bool
}

func newPollFD(fd int, name string, socket bool) *pollFD {
	p := &pollFD{fd: fd, name: name, socket: socket, wake: [2]int{-1, -1}}
	if r, w, err := ownPipe(); err == nil {
		p.wake = [2]int{r, w}
	}
	return p
}

// Name is the file's name, for error messages.
func (p *pollFD) Name() string { return p.name }

func (p *pollFD) enter() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancelled {
		return os.ErrDeadlineExceeded
	}
	p.users++
	return nil
}

func (p *pollFD) leave() {
	p.mu.Lock()
	p.users--
	last := p.users == 0 && p.released
	p.mu.Unlock()
	if last {
		p.closeWake()
	}
}

// cancel makes every wait in progress and to come return at once.
func (p *pollFD) cancel() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancelled {
		return
	}
	p.cancelled = true
	if p.wake[1] >= 0 {
		unix.Write(p.wake[1], []byte{0}) // never read: it stays readable
	}
}

// release cancels and closes the wake pipe once no call uses it.
func (p *pollFD) release() {
	p.cancel()
	p.mu.Lock()
	now := !p.released && p.users == 0
	p.released = true
	p.mu.Unlock()
	if now {
		p.closeWake()
	}
}

func (p *pollFD) closeWake() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wakeGone || p.wake[0] < 0 {
		return
	}
	p.wakeGone = true
	unix.Close(p.wake[0])
	unix.Close(p.wake[1])
}

// wait blocks until fd reports one of events (or an error or hang-up) or
// the pollFD is cancelled.
func (p *pollFD) wait(events int16) error {
	fds := []unix.PollFd{{Fd: int32(p.fd), Events: events}, {Fd: int32(p.wake[0]), Events: unix.POLLIN}}
	if p.wake[0] < 0 {
		fds = fds[:1]
	}
	for {
		_, err := unix.Poll(fds, -1)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return os.NewSyscallError("poll", err)
		case len(fds) > 1 && fds[1].Revents != 0:
			return os.ErrDeadlineExceeded
		case fds[0].Revents != 0:
			return nil
		}
	}
}

func (p *pollFD) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if err := p.enter(); err != nil {
		return 0, p.fail("read", err)
	}
	defer p.leave()
	for {
		if err := p.wait(unix.POLLIN); err != nil {
			return 0, p.fail("read", err)
		}
		var n int
		var err error
		if p.socket {
			n, _, err = unix.Recvfrom(p.fd, b, unix.MSG_DONTWAIT)
		} else {
			n, err = unix.Read(p.fd, b)
		}
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
			continue
		case err != nil:
			return 0, p.fail("read", err)
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (p *pollFD) Write(b []byte) (int, error) {
	if err := p.enter(); err != nil {
		return 0, p.fail("write", err)
	}
	defer p.leave()
	total := 0
	for total < len(b) {
		if err := p.wait(unix.POLLOUT); err != nil {
			return total, p.fail("write", err)
		}
		rest := b[total:]
		var n int
		var err error
		if p.socket {
			n, err = unix.SendmsgN(p.fd, rest, nil, nil, unix.MSG_DONTWAIT)
		} else {
			n, err = unix.Write(p.fd, rest[:min(len(rest), atomicWrite)])
		}
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
			continue
		case err != nil:
			return total, p.fail("write", err)
		}
		total += n
	}
	return total, nil
}

func (p *pollFD) fail(op string, err error) error {
	return &os.PathError{Op: op, Path: p.name, Err: err}
}
