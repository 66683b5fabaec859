package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// maxHTTPHead bounds an HTTP request or response head (request or status
// line and headers), as most proxies do.
const maxHTTPHead = 16 << 10

// errHeadTooLong is an HTTP head that did not end within maxHTTPHead.
var errHeadTooLong = errors.New("HTTP head longer than 16 KiB")

// headReader reads a protocol head from a conn in chunks rather than
// byte by byte, and keeps what it read past the head so that nothing a
// peer pipelined is lost. Its buffer grows on demand up to max.
type headReader struct {
	r    io.Reader
	buf  []byte
	i, j int // buf[i:j] is read and not consumed
	max  int
}

func newHeadReader(r io.Reader, initial, max int) *headReader {
	return &headReader{r: r, buf: make([]byte, initial), max: max}
}

// fill makes at least n unconsumed bytes available, reading as needed;
// n must not exceed max.
func (h *headReader) fill(n int) error {
	if n > h.max {
		return errors.New("proxy: head read past its bound")
	}
	for h.j-h.i < n {
		if h.i > 0 && len(h.buf)-h.i < n {
			h.j = copy(h.buf, h.buf[h.i:h.j])
			h.i = 0
		}
		if len(h.buf)-h.i < n {
			size := 2 * len(h.buf)
			for size < n {
				size *= 2
			}
			if size > h.max {
				size = h.max
			}
			nb := make([]byte, size)
			h.j = copy(nb, h.buf[h.i:h.j])
			h.i = 0
			h.buf = nb
		}
		m, err := h.r.Read(h.buf[h.j:])
		h.j += m
		if h.j-h.i >= n {
			return nil
		}
		if err != nil {
			if err == io.EOF && h.j > h.i {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// next consumes and returns n bytes; the slice is valid until the next
// call.
func (h *headReader) next(n int) ([]byte, error) {
	if err := h.fill(n); err != nil {
		return nil, err
	}
	b := h.buf[h.i : h.i+n]
	h.i += n
	return b, nil
}

// until consumes and returns bytes up to and including the first delim,
// failing with errTooLong if none comes within limit bytes.
func (h *headReader) until(delim byte, limit int, errTooLong error) ([]byte, error) {
	scanned := 0
	for {
		if k := bytes.IndexByte(h.buf[h.i+scanned:h.j], delim); k >= 0 {
			n := scanned + k + 1
			if n > limit {
				return nil, errTooLong
			}
			b := h.buf[h.i : h.i+n]
			h.i += n
			return b, nil
		}
		scanned = h.j - h.i
		if scanned >= limit {
			return nil, errTooLong
		}
		if err := h.fill(scanned + 1); err != nil {
			return nil, err
		}
	}
}

// httpHead consumes and returns an HTTP head up to and including the
// empty line that ends it (CRLF or bare LF line ends), at most
// maxHTTPHead bytes.
func (h *headReader) httpHead() ([]byte, error) {
	from := 0 // bytes of buf[i:j] known to hold no end of the head
	for {
		w := h.buf[h.i:h.j]
		for {
			k := bytes.IndexByte(w[from:], '\n')
			if k < 0 {
				from = len(w)
				break
			}
			p := from + k
			end := 0
			switch {
			case p+1 < len(w) && w[p+1] == '\n':
				end = p + 2
			case p+2 < len(w) && w[p+1] == '\r' && w[p+2] == '\n':
				end = p + 3
			case p+1 == len(w) || w[p+1] == '\r' && p+2 == len(w):
				from = p // undecided until more is read
			default:
				from = p + 1
				continue
			}
			if end == 0 {
				break
			}
			if end > maxHTTPHead {
				return nil, errHeadTooLong
			}
			h.i += end
			return w[:end], nil
		}
		if len(w) >= maxHTTPHead {
			return nil, errHeadTooLong
		}
		if err := h.fill(len(w) + 1); err != nil {
			return nil, err
		}
	}
}

// rest returns a copy of the bytes read and not consumed, or nil.
func (h *headReader) rest() []byte {
	if h.j == h.i {
		return nil
	}
	return bytes.Clone(h.buf[h.i:h.j])
}

// aLongTimeAgo is a deadline in the past, which makes pending and
// future I/O on a conn fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// bound makes c's I/O obey ctx: its deadline becomes c's, and its
// cancellation fails c's pending I/O. The returned stop undoes both,
// leaving c with no deadline, and must be called before c is used for
// anything else; no goroutine outlives it.
func bound(ctx context.Context, c net.Conn) (stop func()) {
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	fired := make(chan struct{})
	unhook := context.AfterFunc(ctx, func() {
		c.SetDeadline(aLongTimeAgo)
		close(fired)
	})
	return func() {
		if !unhook() {
			<-fired
		}
		c.SetDeadline(time.Time{})
	}
}

// ctxErr prefers ctx's error to err, so that an I/O error caused by a
// deadline or a cancellation says so.
func ctxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if e := ctx.Err(); e != nil {
		return e
	}
	// c's deadline, set from ctx's, can fire a moment before ctx's own
	// timer marks ctx done.
	if d, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return err
}
