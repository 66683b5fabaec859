//go:build unix

package conn

import (
	"os"
	"syscall"
)

// msgTrunc is the flag of a datagram that did not fit the buffer; zero
// where the platform has none.
const msgTrunc = syscall.MSG_TRUNC

// canWaitRead says UDPConn.WaitRead can wait through the descriptor.
const canWaitRead = true

// connectFD connects a socket to sa.
func connectFD(fd uintptr, sa syscall.Sockaddr) error {
	return os.NewSyscallError("connect", syscall.Connect(int(fd), sa))
}
