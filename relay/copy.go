package relay

import (
	"io"
	"net"
	"os"
	"sync"
)

// bufSize is the buffered copy's chunk: large enough that a terminal or a
// TLS stream is not held back by system-call overhead (io.Copy's 32 KiB
// costs several times more calls per byte).
const bufSize = 256 << 10

// TapChunk is the most a copy with taps reads at once, smaller than an
// untapped buffered copy's chunk: a tap may block (a hex dump waits for
// its writer), and every pairing blocked in a tap holds its chunk, so
// memory stays bounded by the number of pairings times TapChunk.
const TapChunk = 64 << 10

// The buffer pools lend buffers only while bytes move, so thousands of
// idle pairings do not each pin one.
var (
	bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}
	tapPool = sync.Pool{New: func() any { b := make([]byte, TapChunk); return &b }}
)

// buffered copies through a pooled buffer, showing each chunk to the
// pairing's taps first, until the source ends (c.eof), fails, or, with
// once, after one chunk. With wait it waits for the source socket to be
// readable before borrowing a buffer, and it gives the buffer back after
// every chunk, so that a pairing sitting idle holds none.
func (c *copier) buffered(wait, once bool) error {
	pool := &bufPool
	if c.chunk == TapChunk {
		pool = &tapPool
	}
	drained := true // the last read came up short: the source is most likely empty
	for {
		if wait && drained {
			if err := waitReadable(c.src.rc); err != nil {
				return opError("read", c.r, err)
			}
		}
		bp := pool.Get().(*[]byte)
		n, rerr := c.r.Read(*bp)
		var werr error
		if n > 0 {
			var m int64
			m, werr = c.p.deliver(c.d, c.w, (*bp)[:n])
			c.n += m
		}
		pool.Put(bp)
		switch {
		case werr != nil:
			return werr
		case rerr == io.EOF:
			c.eof = true
			return nil
		case rerr != nil:
			return opError("read", c.r, rerr)
		case once && n > 0:
			return nil
		}
		drained = n < c.chunk
	}
}

// opError names the operation and both endpoints of a failure, as the net
// package does for its own errors.
func opError(op string, x any, err error) error {
	switch err.(type) {
	case *net.OpError, *os.PathError:
		return err
	}
	if c, ok := x.(interface {
		LocalAddr() net.Addr
		RemoteAddr() net.Addr
	}); ok {
		l, r := c.LocalAddr(), c.RemoteAddr()
		return &net.OpError{Op: op, Net: l.Network(), Source: l, Addr: r, Err: err}
	}
	if f, ok := x.(interface{ Name() string }); ok {
		return &os.PathError{Op: op, Path: f.Name(), Err: err}
	}
	return err
}
