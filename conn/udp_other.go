//go:build !unix && !windows

package conn

import (
	"errors"
	"syscall"
)

const canWaitRead = false

const msgTrunc = 0

func rxFill(fd uintptr, bufs []*[]byte, sizes []int) (int, error) { return 0, nil }

func connectFD(fd uintptr, sa syscall.Sockaddr) error {
	return errors.New("connecting a bound socket is not supported on this platform")
}
