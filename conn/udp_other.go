//go:build !unix && !windows

package conn

import (
	"errors"
	"syscall"
)

const canWaitRead = false

const msgTrunc = 0

func (c *UDPConn) tryRead(fd uintptr) bool { return true }

func connectFD(fd uintptr, sa syscall.Sockaddr) error {
	return errors.New("connecting a bound socket is not supported on this platform")
}
