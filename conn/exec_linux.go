package conn

import (
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// childPipe makes a pipe for a program's stdin (forInput) or stdout. gnc's
// end is non-blocking and registered with Go's poller, so that it is
// spliced and Close interrupts I/O on it; the program's end stays a bare
// descriptor, blocking as programs expect and never registered, which
// spares the poller two registrations and the descriptor two mode changes
// per connection.
func childPipe(forInput bool) (ours *os.File, theirs int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, -1, os.NewSyscallError("pipe2", err)
	}
	o, t := p[0], p[1] // gnc reads the program's stdout
	flags := unix.O_NONBLOCK | unix.O_RDONLY
	if forInput {
		o, t = p[1], p[0] // gnc writes the program's stdin
		flags = unix.O_NONBLOCK | unix.O_WRONLY
	}
	// A new pipe end has no other status flags to keep: set them at once.
	if _, err := unix.FcntlInt(uintptr(o), unix.F_SETFL, flags); err != nil {
		unix.Close(o)
		unix.Close(t)
		return nil, -1, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(o), "|"), t, nil
}

var pidfdOK = sync.OnceValue(func() bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
})

// spawn starts a program, with a pidfd of gnc's own where the kernel has
// them (Linux 5.3 and later), waited for in Go's poller (pidfdProcess);
// else as startProcess does. os/exec is not used: it would take a pidfd
// of its own besides, copy the environment to deduplicate it (NewExec
// and environ already have) and hold a thread in waitid(2) for each
// program.
func spawn(path string, argv []string, a spawnAttr) (process, error) {
	if !pidfdOK() {
		return startProcess(path, argv, a)
	}
	attr := a.procAttr()
	pidfd := -1
	attr.Sys.PidFD = &pidfd
	pid, err := forkExec(path, argv, attr)
	if err != nil {
		return nil, err
	}
	if pidfd < 0 { // started without one after all
		return keepProcess(pid)
	}
	return &pidfdProcess{pid: pid, fd: pidfd}, nil
}

// pidfdProcess is a program gnc holds a pidfd of: its exit is waited for
// in Go's poller, not by a thread blocked in wait4(2) for each program,
// and signals go through the pidfd, which names this process and no
// other for as long as it is open.
type pidfdProcess struct {
	pid int
	mu  sync.Mutex
	fd  int // -1 once the process is reaped and fd closed
}

func (p *pidfdProcess) Pid() int { return p.pid }

func (p *pidfdProcess) Signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fd >= 0 {
		unix.PidfdSendSignal(p.fd, sig, nil, 0)
	}
}

// Wait waits until the pidfd is readable, which it becomes when the
// process exits, and reaps the process by its pid: until it is reaped no
// other process can take that pid.
func (p *pidfdProcess) Wait() string {
	var ws syscall.WaitStatus
	reaped := false
	reap := func(options int) bool {
		r, err := syscall.Wait4(p.pid, &ws, options, nil)
		for err == syscall.EINTR {
			r, err = syscall.Wait4(p.pid, &ws, options, nil)
		}
		reaped = err == nil && r == p.pid
		// An error says there is nothing left to wait for.
		return reaped || err != nil
	}
	var f *os.File
	// A pidfd has no status flags to keep.
	if _, err := unix.FcntlInt(uintptr(p.fd), unix.F_SETFL, unix.O_NONBLOCK); err == nil {
		f = os.NewFile(uintptr(p.fd), "pidfd")
		if rc, err := f.SyscallConn(); err == nil {
			// EINTR is retried in reap, not by waiting again: the pidfd
			// may have become readable already, and would not say so
			// twice.
			rc.Read(func(uintptr) bool { return reap(syscall.WNOHANG) })
		}
	}
	if !reaped {
		reap(0) // no poller for the pidfd: a blocking wait
	}
	p.mu.Lock()
	if f != nil {
		f.Close()
	} else {
		unix.Close(p.fd)
	}
	p.fd = -1
	p.mu.Unlock()
	if !reaped {
		return "not reaped"
	}
	return exitStatus(ws)
}
