//go:build unix

package conn

import (
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// canReadNoWait says that readNoWait works here.
const canReadNoWait = true

// readNoWait reads what the socket has without waiting for more, through
// one read(2) on its descriptor; errWouldBlock when it has nothing.
func readNoWait(s rawSocket, p []byte) (int, error) {
	sc, ok := s.(syscall.Conn)
	if !ok {
		return 0, errWouldBlock
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, errWouldBlock
	}
	var n int
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = unix.Read(int(fd), p)
			if rerr != unix.EINTR {
				return true // never wait: one attempt
			}
		}
	}); err != nil {
		return 0, err
	}
	switch {
	case rerr == unix.EAGAIN:
		return 0, errWouldBlock
	case rerr != nil:
		return 0, rerr
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

// WaitRead blocks until a Read would return at once, so that the engine
// borrows a buffer only when there is something to copy: it reads the
// first byte of the next record (crypto/tls keeps the rest) and holds it
// for Read. An error is kept for Read too.
func (c *TLSConn) WaitRead() error {
	if c.hasWaited || c.waitErr != nil {
		return nil
	}
	n, err := c.Conn.Read(c.waited[:])
	c.hasWaited = n == 1
	if err != nil && !c.hasWaited {
		c.waitErr = err
	}
	return nil
}
