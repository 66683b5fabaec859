//go:build unix

package ui

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// writeFull writes all of p to fd, waiting out EAGAIN on a descriptor that
// another process sharing its file description made non-blocking.
func writeFull(fd int, p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Write(fd, p[done:])
		if n > 0 {
			done += n
		}
		switch err {
		case nil:
		case unix.EINTR:
		case unix.EAGAIN:
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			unix.Poll(pfd, -1)
		default:
			return done, err
		}
	}
	return done, nil
}

// signalName is the signal's name as the shell spells it ("SIGTERM").
func signalName(s os.Signal) string {
	if sig, ok := s.(syscall.Signal); ok {
		if name := unix.SignalName(sig); name != "" {
			return name
		}
	}
	return s.String()
}
