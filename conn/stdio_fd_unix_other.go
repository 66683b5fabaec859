//go:build unix && !linux

package conn

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// atomicWrite is the most a write(2) to a pipe may carry without blocking
// once poll(2) has reported the pipe writable: these systems report
// POLLOUT with room for PIPE_BUF bytes, at least the POSIX minimum of 512.
const atomicWrite = 512

// reopen would give a private open file description of fd's pipe or
// terminal; these systems have no way to (opening /dev/fd/N duplicates
// the descriptor, sharing its flags), so fd is used as it is.
func reopen(fd int, name string, input bool, st *unix.Stat_t) *os.File { return nil }

// growPipe does nothing: these systems size pipes themselves.
func growPipe(f *os.File) {}

// dupOnto makes newfd refer to what oldfd does, closing newfd's old
// reference atomically.
func dupOnto(oldfd, newfd int) error { return unix.Dup2(oldfd, newfd) }

// cloexecPipe makes a pipe whose ends are close-on-exec. Without pipe2 on
// every system, ForkLock keeps a child started meanwhile from inheriting
// the ends before they are marked.
func cloexecPipe() (r, w int, err error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err = unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, -1, err
	}
	return p[0], p[1], nil
}

// ownPipe makes the pipe a pollFD's cancel writes to.
func ownPipe() (r, w int, err error) {
	var p [2]int
	p[0], p[1], err = cloexecPipe()
	if err != nil {
		return -1, -1, err
	}
	unix.SetNonblock(p[0], true)
	unix.SetNonblock(p[1], true)
	return p[0], p[1], nil
}
