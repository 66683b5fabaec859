package relay

import (
	"errors"
	"io"
	"syscall"
)

// fdKind is what the kernel can do with a descriptor on the data path.
type fdKind uint8

const (
	kindOther   fdKind = iota // no usable descriptor: a wrapper, a blocking pipe, a terminal...
	kindSocket                // a non-blocking stream socket (TCP, Unix)
	kindPipe                  // a non-blocking, pollable pipe or FIFO
	kindFile                  // a regular file (not opened for appending, when written)
	kindDevNull               // /dev/null, as a destination
	numKinds
)

// rawFD is one end of a copy seen as a descriptor.
type rawFD struct {
	rc   syscall.RawConn
	kind fdKind
	// own: the conn says it is a socket gnc alone holds (OwnSocket), so
	// the engine may shut it down early, delay its last bytes for the FIN
	// (SPLICE_F_MORE) and set SO_RCVLOWAT and read deadlines on it.
	own bool
}

// route is how one direction moves its bytes.
type route uint8

const (
	// viaBuffer reads into a pooled buffer and writes it out.
	viaBuffer route = iota
	// viaBufferWait is viaBuffer that waits for the source socket to be
	// readable before taking a buffer, so idle pairings hold none.
	viaBufferWait
	// viaPipe splices through a pipe from the pool.
	viaPipe
	// viaPipeFIN is viaPipe towards a socket: when that socket is our
	// own and is shut down as soon as the source ends, the last bytes
	// wait (SPLICE_F_MORE) and leave in one segment with the FIN.
	viaPipeFIN
	// viaPipeBulk is viaPipe from a socket towards stdout or a file:
	// when the source is our own socket, a bulk stream raises its
	// SO_RCVLOWAT, so that it wakes the copy once per pipe's worth.
	viaPipeBulk
)

// routes is the one place that decides the copy path, by the kind of the
// source (row) and of the destination (column):
//
//	src \ dst  other     socket    pipe      file      /dev/null
//	other      buf       buf       buf       buf       buf
//	socket     buf-wait  pipe-FIN  pipe-bulk pipe-bulk pipe-bulk
//	pipe       buf       pipe-FIN  pipe      pipe      pipe
//	file       buf       pipe-FIN  buf       buf       buf
//
// A regular file goes to a socket through a pool pipe, not sendfile(2):
// the pool's pipes hold more than sendfile's own (see bench/NOTES.md).
// Two rules override the table and take the first column instead, the
// route that needs no descriptor of its own: a direction with taps (the
// bytes must come through user space), and a splice that cannot get a
// pipe because the descriptor table or kernel memory is full (so an open
// pairing carries on while new connections fail).
var routes = [numKinds][numKinds]route{
	kindOther:   {viaBuffer, viaBuffer, viaBuffer, viaBuffer, viaBuffer},
	kindSocket:  {viaBufferWait, viaPipeFIN, viaPipeBulk, viaPipeBulk, viaPipeBulk},
	kindPipe:    {viaBuffer, viaPipeFIN, viaPipe, viaPipe, viaPipe},
	kindFile:    {viaBuffer, viaPipeFIN, viaBuffer, viaBuffer, viaBuffer},
	kindDevNull: {viaBuffer, viaBuffer, viaBuffer, viaBuffer, viaBuffer}, // never a source
}

// buffered is the route a direction from src falls back to.
func buffered(src rawFD) route { return routes[src.kind][kindOther] }

// routeHook, if set (by tests), sees each route a direction takes, the
// fallbacks included.
var routeHook func(d Dir, r route)

// errNoPipe is splice's report that it could get no pipe before it read
// anything: the caller copies through a buffer instead.
var errNoPipe = errors.New("no pipe for splice")

// copyStream moves r to w by the route the table gives. A splice that
// finds no pipe moves one buffered chunk and tries again, so a pairing
// goes back to splicing once descriptors are free.
func (p *pairing) copyStream(d Dir, w io.Writer, r io.Reader) (int64, error) {
	src, dst := fdOf(r, false), fdOf(w, true)
	rt := routes[src.kind][dst.kind]
	if len(p.taps) > 0 {
		rt = buffered(src)
	}
	c := copier{p: p, d: d, w: w, r: r, src: src, tapped: len(p.taps) > 0}
	c.growFrom, _ = p.conns[d].(Grower)
	c.growTo, _ = p.conns[1-d].(Grower)
	if c.datagrams(r, w); c.dgram {
		if rt >= viaPipe {
			rt = buffered(src) // splice knows no datagram boundaries
		}
		defer func() { p.countDatagrams(d, c.count) }()
		br, okR := r.(DatagramReader)
		bw, okW := w.(DatagramWriter)
		if okR && okW {
			c.hook(viaBuffer)
			err := c.batches(br, bw)
			return c.n, err
		}
	}
	if rt < viaPipe {
		c.hook(rt)
		err := c.buffered(rt == viaBufferWait, false)
		return c.n, err
	}
	_, canShut := w.(closeWriter)
	fin := rt == viaPipeFIN && dst.own && canShut && !p.opt.NoShutdown
	bulk := rt == viaPipeBulk && src.own
	for {
		c.hook(rt)
		err := c.splice(dst, fin, bulk)
		if err != errNoPipe {
			return c.n, err
		}
		c.hook(buffered(src))
		if err := c.buffered(buffered(src) == viaBufferWait, true); err != nil || c.eof {
			return c.n, err
		}
	}
}

// copier is one direction's copy in progress, whichever route it takes.
type copier struct {
	p      *pairing
	d      Dir
	w      io.Writer
	r      io.Reader
	src    rawFD
	tapped bool  // the bytes go through taps
	n      int64 // bytes delivered so far
	eof    bool  // the source has ended

	// For a direction from or to a Datagram (see datagrams):
	dgram   bool  // chunks are datagrams: read whole, counted
	empties bool  // a zero-length read is a datagram to pass on
	limit   int   // the most one read may take; zero: the buffer
	count   int64 // datagrams delivered

	// The direction's ends that are Growers, until growAfter bytes have
	// gone and Grow has been called; nil for the others.
	growFrom, growTo Grower
}

// growAfter is how many bytes make a direction a long stream, whose ends'
// buffers are worth enlarging (Grower).
const growAfter = 4 << 20

func (c *copier) hook(rt route) {
	if routeHook != nil {
		routeHook(c.d, rt)
	}
}

// delivered counts n bytes written to the destination.
func (c *copier) delivered(n int64) {
	c.n += n
	c.p.moved(c.d, n)
	if (c.growFrom != nil || c.growTo != nil) && c.n >= growAfter {
		if c.growFrom != nil {
			c.growFrom.Grow(true)
		}
		if c.growTo != nil {
			c.growTo.Grow(false)
		}
		c.growFrom, c.growTo = nil, nil
	}
}
