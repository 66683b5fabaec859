//go:build unix

package conn

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"gnc/relay"
)

// execPrepare readies gnc for starting programs: see
// closeInheritedOnExec.
func execPrepare(ExecOptions) error {
	closeInheritedOnExec()
	return nil
}

// execConn is one running program as a conn. Without a pseudo-terminal its
// halves are gnc's ends of the program's stdout and stdin pipes, as the
// *os.File values themselves: non-blocking and registered with Go's
// poller (see childPipe), so the engine splices them and Close interrupts
// any I/O in progress. The program's ends are blocking, as
// programs expect, and are closed in gnc right after the start, so that
// the program holding them alone decides when they end.
type execConn struct {
	e    *Exec
	proc process
	name string

	r      io.Reader // what the engine reads: stdout, or the terminal
	w      io.Writer // what the engine writes: stdin, or the terminal
	stdout *os.File  // gnc's end of the stdout pipe; nil on a terminal
	stdin  *os.File  // gnc's end of the stdin pipe; nil on a terminal
	master *os.File  // the terminal's master side; nil without one

	exited chan struct{} // closed once the program has exited and been reaped
	status string        // how it ended, set before exited is closed

	mu        sync.Mutex
	onExit    func()
	hasExited bool
	closed    bool  // Close has run
	grown     int32 // pipes Grow enlarged, counted in grownPipes

	closeOnce, cwOnce, reapOnce sync.Once
}

// start runs the program for a conn paired with peer (nil: none).
func (e *Exec) start(ctx context.Context, peer relay.Conn) (relay.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	attr := spawnAttr{dir: e.opt.Dir, env: e.environ(peer)}
	c := &execConn{e: e, exited: make(chan struct{})}
	var tty *os.File // the terminal's program side, closed here once it runs
	var theirs []int // the program's ends of its pipes, likewise
	closeChild := func() {
		if tty != nil {
			tty.Close()
		}
		for _, fd := range theirs {
			unix.Close(fd)
		}
	}
	if e.opt.PTY {
		master, t, err := openPTY()
		if err != nil {
			return nil, &ExecError{Name: e.opt.Name, Reason: "no pseudo-terminal: " + Reason(err), Err: err, Hint: "the system is out of pseudo-terminals, or has none: run without --pty (pty)"}
		}
		c.master, tty = master, t
		c.r, c.w = ptyReader{master}, ptyWriter{master}
		fd := int(tty.Fd())
		attr.fds = []int{fd, fd, fd}
		attr.sys = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	} else {
		inW, inR, err := childPipe(true)
		if err != nil {
			return nil, e.startError(err)
		}
		outR, outW, err := childPipe(false)
		if err != nil {
			inW.Close()
			unix.Close(inR)
			return nil, e.startError(err)
		}
		c.stdin, c.stdout, theirs = inW, outR, []int{inR, outW}
		c.r, c.w = outR, inW
		// gnc's stderr goes by number, never through os.Stderr.Fd, which
		// would put it in blocking mode for every process that shares it.
		attr.fds = []int{inR, outW, syscall.Stderr}
		if e.opt.Stderr {
			attr.fds[2] = outW
		}
	}
	proc, err := spawn(e.path, e.opt.Argv, attr)
	closeChild()
	if err != nil {
		for _, f := range []*os.File{c.stdin, c.stdout, c.master} {
			if f != nil {
				f.Close()
			}
		}
		return nil, e.startError(err)
	}
	c.proc = proc
	c.name = e.opt.Name + " (pid " + strconv.Itoa(proc.Pid()) + ")"
	if !e.track(c) {
		// The endpoint closed while the program started.
		go c.wait()
		c.Reap(true)
		return nil, &ExecError{Name: e.opt.Name, Reason: "gnc is stopping", Err: context.Canceled}
	}
	go c.wait()
	return c, nil
}

// wait reaps the program when it exits and says so.
func (c *execConn) wait() {
	c.status = c.proc.Wait()
	c.e.untrack(c)
	c.mu.Lock()
	c.hasExited = true
	f := c.onExit
	c.mu.Unlock()
	close(c.exited)
	if f != nil {
		f()
	}
}

// process is a started program, until it is reaped.
type process interface {
	// Pid is the program's process ID.
	Pid() int
	// Signal sends sig, unless the program has been reaped: then no other
	// process that took its ID since can be hit.
	Signal(sig syscall.Signal)
	// Wait waits for the program to exit, reaps it and says how it ended
	// (see exitStatus).
	Wait() string
}

// osProcess is a process as os.Process keeps it, where gnc has no pidfd
// of its own: os.Process refuses to signal a process it has reaped.
type osProcess struct{ p *os.Process }

// spawnAttr is how a program is started: its working directory (empty:
// gnc's), its environment, the descriptors that become its 0, 1 and 2,
// which must be in blocking mode, and system-specific attributes (nil:
// none).
type spawnAttr struct {
	dir string
	env []string
	fds []int
	sys *syscall.SysProcAttr
}

// procAttr is a as syscall.ForkExec takes it, with a copy of a.sys that
// the caller may change.
func (a spawnAttr) procAttr() *syscall.ProcAttr {
	files := make([]uintptr, len(a.fds))
	for i, fd := range a.fds {
		files[i] = uintptr(fd)
	}
	sys := &syscall.SysProcAttr{}
	if a.sys != nil {
		*sys = *a.sys
	}
	return &syscall.ProcAttr{Dir: a.dir, Env: a.env, Files: files, Sys: sys}
}

// forkExec starts path with syscall.ForkExec, its errors as os/exec words
// them.
func forkExec(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return 0, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return pid, nil
}

// startProcess starts path and keeps it as an os.Process.
func startProcess(path string, argv []string, a spawnAttr) (process, error) {
	pid, err := forkExec(path, argv, a.procAttr())
	if err != nil {
		return nil, err
	}
	return keepProcess(pid)
}

// keepProcess keeps the started process pid as an os.Process.
func keepProcess(pid int) (process, error) {
	p, err := os.FindProcess(pid) // on Unix it always succeeds
	if err != nil {
		return nil, err
	}
	return osProcess{p}, nil
}

func (o osProcess) Pid() int                  { return o.p.Pid }
func (o osProcess) Signal(sig syscall.Signal) { o.p.Signal(sig) }

func (o osProcess) Wait() string {
	ps, err := o.p.Wait()
	if err != nil {
		return "not reaped"
	}
	ws, _ := ps.Sys().(syscall.WaitStatus)
	return exitStatus(ws)
}

// exitStatus is "exit N" or "killed by SIGNAME".
func exitStatus(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		name := unix.SignalName(ws.Signal())
		if name == "" {
			name = "signal " + strconv.Itoa(int(ws.Signal()))
		}
		return "killed by " + name
	}
	return "exit " + strconv.Itoa(ws.ExitStatus())
}

func (c *execConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *execConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// ReadHalf is the program's output: its stdout pipe, or its terminal.
func (c *execConn) ReadHalf() io.Reader { return c.r }

// WriteHalf is the program's input: its stdin pipe, or its terminal.
func (c *execConn) WriteHalf() io.Writer { return c.w }

// String names the program and its process, as in "/bin/cat (pid 42)".
func (c *execConn) String() string { return c.name }

// CloseWrite tells the program its input has ended: its stdin pipe is
// closed, or on a terminal the EOF character (Ctrl-D) is typed, once.
func (c *execConn) CloseWrite() error {
	var err error
	c.cwOnce.Do(func() {
		if c.master != nil {
			_, err = c.w.Write([]byte{4})
			return
		}
		err = c.stdin.Close()
	})
	return err
}

// Close closes gnc's ends of the program's pipes or terminal, which
// interrupts any I/O on them; the program itself is left to Reap.
func (c *execConn) Close() error {
	c.closeOnce.Do(func() {
		for _, f := range []*os.File{c.stdin, c.stdout, c.master} {
			if f != nil {
				f.Close()
			}
		}
		c.mu.Lock()
		c.closed = true
		grownPipes.Add(-c.grown)
		c.mu.Unlock()
	})
	return nil
}

// Grow enlarges the program's stdout pipe (out) or its stdin pipe to
// 1 MiB once a long stream crosses it (relay.Grower). A program such as cat
// moves 128 KiB per read and write: through Linux's 64 KiB pipes it waits
// halfway through every block, and the stream goes at half the speed.
// Only long streams grow their pipes because pipe memory counts against
// the user's share (pipe-user-pages-soft), past which the kernel makes
// every new pipe of that user small. A terminal is left as it is.
func (c *execConn) Grow(out bool) {
	f := c.stdin
	if out {
		f = c.stdout
	}
	if f == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || grownPipes.Add(1) > maxGrownPipes {
		if !c.closed {
			grownPipes.Add(-1)
		}
		return
	}
	c.grown++
	growPipe(f)
}

// grownPipes counts the programs' pipes grown and not yet closed by gnc,
// at most maxGrownPipes: with gnc's own pool of pipes that keeps gnc well
// within an unprivileged user's default share of pipe memory, whatever
// the number of clients.
var grownPipes atomic.Int32

const maxGrownPipes = 16

// BindExit: see relay.Process.
func (c *execConn) BindExit(exited func()) {
	c.mu.Lock()
	already := c.hasExited
	if !already {
		c.onExit = exited
	}
	c.mu.Unlock()
	if already {
		exited()
	}
}

// Reap closes the conn and waits for the program to end: it is given
// execGrace to exit by itself (none with hurry), then sent SIGTERM, then
// SIGKILL after execTerm more. It returns how the program ended.
func (c *execConn) Reap(hurry bool) string {
	c.reapOnce.Do(func() {
		c.Close()
		if !hurry && waitDone(c.exited, execGrace) {
			return
		}
		c.proc.Signal(syscall.SIGTERM)
		if waitDone(c.exited, execTerm) {
			return
		}
		c.proc.Signal(syscall.SIGKILL)
	})
	<-c.exited
	return c.status
}

// waitDone waits up to d for ch to close; false means it did not.
func waitDone(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// openPTY makes a pseudo-terminal of 80x24. creack/pty knows how each
// system hands them out (Linux's /dev/ptmx ioctls, the BSDs' and macOS's
// own calls); the master it returns has been put in blocking mode by its
// ioctls (they go through File.Fd), where Close would not interrupt a
// read in progress, so gnc keeps a non-blocking duplicate that Go's
// poller registers instead.
func openPTY() (master, tty *os.File, err error) {
	m, t, err := pty.Open()
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	if err := pty.Setsize(t, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Close()
		return nil, nil, err
	}
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		t.Close()
		return nil, nil, os.NewSyscallError("fcntl", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		t.Close()
		return nil, nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), t, nil
}

// ptyReader reads the program's terminal: EIO there means every process
// has closed the terminal (the program exited), which is the end of its
// output.
type ptyReader struct{ f *os.File }

func (p ptyReader) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	if errors.Is(err, syscall.EIO) {
		return n, io.EOF
	}
	return n, err
}

// Name names the terminal in messages.
func (p ptyReader) Name() string { return p.f.Name() }

// ptyWriter writes the program's terminal: EIO there means nobody holds
// the terminal any more, which the engine must see as a reader gone
// (EPIPE), not as a failure.
type ptyWriter struct{ f *os.File }

func (p ptyWriter) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	if errors.Is(err, syscall.EIO) {
		err = &os.PathError{Op: "write", Path: p.f.Name(), Err: syscall.EPIPE}
	}
	return n, err
}

// Name names the terminal in messages.
func (p ptyWriter) Name() string { return p.f.Name() }

var (
	_ relay.Process = (*execConn)(nil)
	_ relay.Halves  = (*execConn)(nil)
	_ relay.Grower  = (*execConn)(nil)
)

// inheritedOnce marks, once, the descriptors gnc inherited (beyond 0, 1
// and 2) close-on-exec, so that a program started for a connection gets
// its three and nothing else: gnc's own are close-on-exec already, but
// what a parent leaked to gnc would go on to every child. The flag
// belongs to gnc's descriptor table alone (it is not part of the open
// file description another process may share), so nobody else sees it.
var inheritedOnce sync.Once

func closeInheritedOnExec() {
	inheritedOnce.Do(func() {
		for _, fd := range openFDs() {
			if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
				unix.FcntlInt(uintptr(fd), unix.F_SETFD, flags|unix.FD_CLOEXEC)
			}
		}
	})
}

// openFDs lists the descriptors above 2 that may be open: from
// /proc/self/fd where there is one, else every number up to the limit
// (bounded, as the limit may be huge).
func openFDs() []int {
	var fds []int
	if f, err := os.Open("/proc/self/fd"); err == nil {
		names, _ := f.Readdirnames(-1)
		f.Close()
		for _, n := range names {
			if fd, err := strconv.Atoi(n); err == nil && fd > 2 {
				fds = append(fds, fd)
			}
		}
		if len(fds) > 0 {
			return fds // the directory's own descriptor is among them, now closed: harmless
		}
	}
	limit := uint64(1024)
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && uint64(rl.Cur) > limit {
		limit = min(uint64(rl.Cur), 1<<16) // Cur is signed on some systems
	}
	for fd := 3; uint64(fd) < limit; fd++ {
		fds = append(fds, fd)
	}
	return fds
}
