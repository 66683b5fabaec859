//go:build unix && !linux

package conn

import "syscall"

// rxFill reads one datagram into bufs[0]: the platform has no recvmmsg.
// It returns syscall.EAGAIN when there is none yet.
func rxFill(fd uintptr, bufs []*[]byte, sizes []int) (int, error) {
	for {
		n, err := syscall.Read(int(fd), *bufs[0])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err
		}
		sizes[0] = n
		return 1, nil
	}
}
