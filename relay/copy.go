package relay

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
)

// bufSize is the buffered copy's chunk: large enough that a terminal or a
// TLS stream is not held back by system-call overhead (io.Copy's 32 KiB
// costs several times more calls per byte).
const bufSize = 256 << 10

// TapChunk is the most bytes a copy shows its taps at once; a Prefixed
// conn's bytes read ahead may come as one larger chunk.
const TapChunk = bufSize

// A tap may block (a hex dump waits for its writer), and a copy blocked in
// a tap holds its chunk. So that memory does not grow with the number of
// tapped pairings times TapChunk, only tapBig buffers of that size are
// lent to tapped copies at once, across the process; the others read
// tapSmall bytes at a time. One busy stream keeps its large reads (and a
// dump its large blocks); many at once share the budget.
const (
	tapBig   = 8
	tapSmall = 32 << 10
)

// tapBigOut counts the large buffers tapped copies hold now.
var tapBigOut atomic.Int32

// The buffer pools lend buffers only while bytes move, so thousands of
// idle pairings do not each pin one.
var (
	bufPool   = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}
	smallPool = sync.Pool{New: func() any { b := make([]byte, tapSmall); return &b }}
)

// borrow lends a buffer for one chunk.
func (c *copier) borrow() *[]byte {
	if c.dgram {
		return dgramPool.Get().(*[]byte)
	}
	if !c.tapped {
		return bufPool.Get().(*[]byte)
	}
	if tapBigOut.Add(1) <= tapBig {
		return bufPool.Get().(*[]byte)
	}
	tapBigOut.Add(-1)
	return smallPool.Get().(*[]byte)
}

// giveBack returns a buffer borrow lent.
func (c *copier) giveBack(bp *[]byte) {
	switch {
	case c.dgram:
		dgramPool.Put(bp)
		return
	case len(*bp) == tapSmall:
		smallPool.Put(bp)
		return
	case c.tapped:
		tapBigOut.Add(-1)
	}
	bufPool.Put(bp)
}

// buffered copies through a pooled buffer, showing each chunk to the
// pairing's taps first, until the source ends (c.eof), fails, or, with
// once, after one chunk. With wait it waits for the source socket to be
// readable before borrowing a buffer, and it gives the buffer back after
// every chunk, so that a pairing sitting idle holds none.
func (c *copier) buffered(wait, once bool) error {
	drained := true // the last read came up short: the source is most likely empty
	rw, _ := c.r.(ReadWaiter)
	for {
		switch {
		case wait && drained:
			if err := waitReadable(c.src.rc); err != nil {
				return opError("read", c.r, err)
			}
		case rw != nil && drained:
			if err := rw.WaitRead(); err != nil {
				return opError("read", c.r, err)
			}
		}
		bp := c.borrow()
		buf := *bp
		if c.limit > 0 && c.limit < len(buf) {
			buf = buf[:c.limit]
		}
		n, rerr := c.r.Read(buf)
		var werr error
		if n > 0 || c.empties && rerr == nil {
			var m int64
			m, werr = c.p.deliver(c.d, c.w, buf[:n])
			c.n += m
			if c.dgram && werr == nil {
				c.count++
			}
		}
		size := len(buf)
		c.giveBack(bp)
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
		drained = n < size
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
