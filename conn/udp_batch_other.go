//go:build !linux

package conn

import (
	"net"

	"gnc/relay"
)

// newBatchReader reads one datagram per call where the platform has no
// recvmmsg(2).
func newBatchReader(c *net.UDPConn, n int) datagramReader {
	return &oneReader{c: c, buf: make([]byte, relay.DatagramBuffer)}
}
