package conn

import (
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// childPipe makes a pipe for a program's stdin (forInput) or stdout. gnc's
// end is non-blocking and registered with Go's poller, so that it is
// spliced and Close interrupts I/O on it; the program's end is left
// blocking and never registered, which spares the poller two
// registrations and the descriptor two mode changes per connection.
func childPipe(forInput bool) (ours, theirs *os.File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	o, t := p[0], p[1] // gnc reads the program's stdout
	if forInput {
		o, t = p[1], p[0] // gnc writes the program's stdin
	}
	if err := unix.SetNonblock(o, true); err != nil {
		unix.Close(o)
		unix.Close(t)
		return nil, nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(o), "|"), os.NewFile(uintptr(t), "|"), nil
}

var pidfdOK = sync.OnceValue(func() bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
})

// withPidFD asks for a pidfd of the child in *fd where the kernel has
// them (Linux 5.3 and later), so that the wait for its exit parks in Go's
// poller rather than holding a thread in waitid(2) for each program.
func withPidFD(attr *syscall.SysProcAttr, fd *int) *syscall.SysProcAttr {
	*fd = -1
	if !pidfdOK() {
		return attr
	}
	if attr == nil {
		attr = &syscall.SysProcAttr{}
	}
	attr.PidFD = fd
	return attr
}

// awaitExit waits in Go's poller until the process of pidfd fd has exited,
// without reaping it, and closes fd; it returns at once when fd is -1 or
// cannot be polled, leaving the wait to os.Process.
func awaitExit(fd int) {
	if fd < 0 {
		return
	}
	if unix.SetNonblock(fd, true) != nil {
		unix.Close(fd)
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		// The process has exited once waitid reports it; an error says
		// there is nothing to wait for here.
		return err != nil || info.Signo != 0
	})
}
