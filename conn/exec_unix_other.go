//go:build unix && !linux

package conn

import (
	"os"
	"syscall"
)

// childPipe makes a pipe for a program's stdin (forInput) or stdout: both
// ends as os.Pipe makes them, gnc's non-blocking and polled (the
// program's end is put back in blocking mode when it is handed over).
func childPipe(forInput bool) (ours, theirs *os.File, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	if forInput {
		return w, r, nil
	}
	return r, w, nil
}

// withPidFD does nothing: there are no pidfds here, and os.Process waits.
func withPidFD(attr *syscall.SysProcAttr, fd *int) *syscall.SysProcAttr {
	*fd = -1
	return attr
}

// awaitExit leaves the wait to os.Process.
func awaitExit(fd int) {}
