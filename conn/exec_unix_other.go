//go:build unix && !linux

package conn

import (
	"os"
	"syscall"
)

// childPipe makes a pipe for a program's stdin (forInput) or stdout: gnc's
// end non-blocking and polled, the program's a bare blocking descriptor,
// both close-on-exec.
func childPipe(forInput bool) (ours *os.File, theirs int, err error) {
	o, t, err := cloexecPipe()
	if err != nil {
		return nil, -1, os.NewSyscallError("pipe", err)
	}
	if forInput {
		o, t = t, o
	}
	if err := syscall.SetNonblock(o, true); err != nil {
		syscall.Close(o)
		syscall.Close(t)
		return nil, -1, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(o), "|"), t, nil
}

// spawn starts a program: see startProcess.
func spawn(path string, argv []string, a spawnAttr) (process, error) {
	return startProcess(path, argv, a)
}
