package relay

import (
	"io"
	"net"
	"os"
	"sync"
)

// bufSize is the buffered copy's chunk: large enough that a terminal, a
// tap or a TLS stream is not held back by system-call overhead (io.Copy's
// 32 KiB costs several times more calls per byte).
const bufSize = 256 << 10

// bufPool lends buffers only while bytes move, so thousands of idle
// pairings do not each pin a quarter of a megabyte.
var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// bufferedCopy copies r to w through a pooled buffer, showing each chunk to
// tap first. When r is a socket it waits for readability before borrowing a
// buffer, and gives the buffer back whenever a read comes up short (the
// socket is then most likely drained).
func bufferedCopy(w io.Writer, r io.Reader, touch func(), d Dir, tap Tap) (int64, error) {
	var wait func() error
	if src, ok := fdOf(r, false); ok && src.kind == kindSocket {
		wait = func() error { return waitReadable(src.rc) }
	}
	var total int64
	drained := true
	for {
		if wait != nil && drained {
			if err := wait(); err != nil {
				return total, opError("read", r, err)
			}
		}
		bp := bufPool.Get().(*[]byte)
		buf := *bp
		n, rerr := r.Read(buf)
		if n > 0 {
			touch()
			if tap != nil {
				tap.Chunk(d, buf[:n])
			}
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				bufPool.Put(bp)
				return total, opError("write", w, werr)
			}
		}
		bufPool.Put(bp)
		drained = n < len(buf)
		switch {
		case rerr == io.EOF:
			return total, nil
		case rerr != nil:
			return total, opError("read", r, rerr)
		}
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
