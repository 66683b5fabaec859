package relay

import (
	"io"
	"sync"
)

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

// DatagramReader is a Datagram conn that can hand over several datagrams
// at once, such as a socket read with recvmmsg(2). A copy between a
// DatagramReader and a DatagramWriter moves every datagram already there
// in one call each way, instead of one datagram per call.
type DatagramReader interface {
	Datagram
	// ReadDatagrams reads the datagrams already there, up to len(bufs),
	// into bufs (each of DatagramBuffer bytes); sizes[i] is the length of
	// the i-th. With wait it first waits for one, and returns at least one
	// unless err is not nil; without, it may return none.
	ReadDatagrams(bufs [][]byte, sizes []int, wait bool) (int, error)
}

// DatagramWriter is a Datagram conn that can send several datagrams in
// one call, such as a socket written with sendmmsg(2).
type DatagramWriter interface {
	Datagram
	// WriteDatagrams sends each of ds as one datagram, in order, and
	// returns how many it sent; fewer than len(ds) only with an error.
	WriteDatagrams(ds [][]byte) (int, error)
}

// DatagramBatch is how many datagrams a batched copy moves at most per
// call each way.
const DatagramBatch = 32

// batches copies datagrams from r to w a batch at a time: each read takes
// what is there, each write sends it all. Its buffers are held only while
// datagrams keep coming: once a read comes up short, or finds nothing
// after a full batch, they go back before the copy waits again.
func (c *copier) batches(r DatagramReader, w DatagramWriter) error {
	rw, _ := c.r.(ReadWaiter)
	var bps [DatagramBatch]*[]byte
	var bufs, out [DatagramBatch][]byte
	var sizes [DatagramBatch]int
	// held buffers are lent now; want is how many the next read asks
	// for: about twice the last batch, so that a trickle borrows one or
	// two and a flood the lot.
	held, want, wait := 0, 2, true
	release := func() {
		for i := range held {
			dgramPool.Put(bps[i])
			bps[i] = nil
		}
		held = 0
	}
	defer release()
	for {
		if held == 0 && rw != nil {
			if err := rw.WaitRead(); err != nil {
				return opError("read", c.r, err)
			}
		}
		for ; held < want; held++ {
			bps[held] = dgramPool.Get().(*[]byte)
			bufs[held] = *bps[held]
		}
		n, rerr := r.ReadDatagrams(bufs[:held], sizes[:held], wait)
		if n > 0 {
			for i := range n {
				out[i] = bufs[i][:sizes[i]]
				for _, t := range c.p.taps {
					t.Chunk(c.d, out[i])
				}
			}
			m, werr := w.WriteDatagrams(out[:n])
			var bytes int64
			for _, d := range out[:m] {
				bytes += int64(len(d))
			}
			c.n += bytes
			c.count += int64(m)
			c.p.moved(c.d, bytes)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return opError("write", c.w, werr)
			}
		}
		switch {
		case rerr == io.EOF:
			c.eof = true
			return nil
		case rerr != nil:
			return opError("read", c.r, rerr)
		}
		if n < held {
			// Most likely empty: wait without the buffers.
			release()
			want, wait = min(max(2*n, 2), DatagramBatch), true
		} else {
			want, wait = min(2*held, DatagramBatch), false
		}
	}
}
