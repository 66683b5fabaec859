package conn

import (
	"os"
	"syscall"
)

// msgTrunc is the flag of a datagram that did not fit the buffer; zero
// where the platform has none.
const msgTrunc = 0

// canWaitRead is false: Windows has no readiness to wait for without
// reading, so a copy reads an idle UDP socket with its buffer lent.
const canWaitRead = false

// rxFill is never called: canWaitRead is false.
func rxFill(fd uintptr, bufs []*[]byte, sizes []int) (int, error) { return 0, nil }

// connectFD connects a socket to sa.
func connectFD(fd uintptr, sa syscall.Sockaddr) error {
	return os.NewSyscallError("connect", syscall.Connect(syscall.Handle(fd), sa))
}
