//go:build unix && !linux

package conn

import (
	"os"
	"syscall"
)

// childPipe makes a pipe for a program's stdin (forInput) or stdout: gnc's
// end non-blocking and polled, the program's a bare blocking descriptor.
// Both are made close-on-exec under syscall.ForkLock, so that no program
// started meanwhile inherits them.
func childPipe(forInput bool) (ours *os.File, theirs int, err error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err = syscall.Pipe(p[:])
	if err == nil {
		syscall.CloseOnExec(p[0])
		syscall.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, -1, os.NewSyscallError("pipe", err)
	}
	o, t := p[0], p[1]
	if forInput {
		o, t = p[1], p[0]
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
