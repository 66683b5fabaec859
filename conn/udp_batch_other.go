//go:build !linux

package conn

import (
	"errors"
	"net"
	"net/netip"
	"syscall"

	"gnc/relay"
)

// newBatchReader reads one datagram per call where the platform has no
// recvmmsg(2).
func newBatchReader(c *net.UDPConn, n int) datagramReader {
	return &oneReader{c: c, buf: make([]byte, relay.DatagramBuffer)}
}

// batchIO is false: datagrams go one per system call.
const batchIO = false

func sendDatagrams(rc syscall.RawConn, ds [][]byte, to netip.AddrPort) (int, error) {
	return 0, errors.ErrUnsupported
}
