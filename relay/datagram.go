package relay

import "sync"

// Datagram is implemented by message-oriented conns: a UDP or Unix datagram
// socket, or one sender's session on a shared UDP socket. Each Read returns
// one datagram whole and each Write sends one, and the engine keeps those
// boundaries:
//
//   - a direction from or to one never splices: it copies through a buffer
//     of DatagramBuffer bytes, larger than any UDP datagram, taps or not (a
//     tapped stream may read in smaller chunks, which would cut a datagram);
//   - towards one, each read of the source takes at most MaxDatagram bytes,
//     so that a stream's bytes become datagrams the socket accepts whole;
//   - a zero-length datagram between two of them is passed on as one;
//   - each datagram delivered is counted in Result.Datagrams.
//
// Such a conn has no end of file and nothing to half-close: it implements
// neither CloseWrite nor OwnSocket, and a pairing with one ends by
// Options.Idle, Wait or Linger, by a failure or by a cancellation.
type Datagram interface {
	// MaxDatagram is the largest datagram one Write sends whole; zero or
	// negative means DatagramBuffer.
	MaxDatagram() int
}

// DatagramBuffer is the size of the buffers datagram directions copy
// through: 64 KiB, above the largest UDP payload (65,527 bytes over IPv6,
// 65,507 over IPv4), so that no datagram is ever read in part.
const DatagramBuffer = 64 << 10

// dgramPool lends the buffers of datagram directions.
var dgramPool = sync.Pool{New: func() any { b := make([]byte, DatagramBuffer); return &b }}

// datagrams sets up c for a direction from r to w when either is a
// Datagram: the read limit, the buffer, the count.
func (c *copier) datagrams(r any, w any) {
	_, srcOK := r.(Datagram)
	dst, dstOK := w.(Datagram)
	if !srcOK && !dstOK {
		return
	}
	c.dgram = true
	c.empties = srcOK && dstOK
	if dstOK {
		c.limit = dst.MaxDatagram()
		if c.limit <= 0 || c.limit > DatagramBuffer {
			c.limit = DatagramBuffer
		}
	}
}

// countDatagrams records how many datagrams direction d delivered.
func (p *pairing) countDatagrams(d Dir, n int64) {
	p.mu.Lock()
	p.res.Datagrams[d] = n
	p.mu.Unlock()
}
