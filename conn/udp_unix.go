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

// tryRead takes the next datagram from the socket, if there is one, for
// the next Read; false means there is none yet (the poller waits).
func (c *UDPConn) tryRead(fd uintptr) bool {
	bp := dgramBufs.Get().(*[]byte)
	for {
		n, err := syscall.Read(int(fd), *bp)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			dgramBufs.Put(bp)
			return false
		}
		c.pending, c.pn, c.perr = bp, max(n, 0), nil
		if err != nil {
			c.perr = err
		}
		return true
	}
}

// connectFD connects a socket to sa.
func connectFD(fd uintptr, sa syscall.Sockaddr) error {
	return os.NewSyscallError("connect", syscall.Connect(int(fd), sa))
}
