// Package relay is gnc's copy engine: it pairs two connections and copies
// each direction on its own until both have ended, passing half-closes
// through and moving bytes inside the kernel with splice(2) whenever it
// can see file descriptors on both ends.
//
// The engine detects what a connection can do with small interfaces
// (CloseWrite, SyscallConn, ReadHalf/WriteHalf, EndsWithPeer, and the
// capabilities in caps.go), never with concrete types or guesses, so a new
// kind of endpoint only has to implement them. A wrapper must embed or
// forward SyscallConn for its descriptor to be spliced; one that does not
// takes the buffered path. Which path a direction takes is decided in one
// place, the routes table in route.go.
package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Conn is one side of a pairing: a full-duplex byte stream, typically a
// *net.TCPConn. Close must unblock any Read or Write in progress, as
// net.Conn's does; the engine relies on it to cancel a pairing.
type Conn = io.ReadWriteCloser

// Dir names a direction of a pairing.
type Dir int

const (
	// Forward is the direction from the first conn of a pairing to the
	// second: FROM to TO in a relay, stdin to the network in connect and
	// listen modes (the hex dump's '>').
	Forward Dir = 0
	// Backward is the direction from the second conn to the first (the hex
	// dump's '<').
	Backward Dir = 1
)

// String is "forward" or "backward".
func (d Dir) String() string {
	if d == Forward {
		return "forward"
	}
	return "backward"
}

// ownSocket reports whether x says it is a socket gnc alone holds (see
// OwnSocket): only such a socket is sure to be shut down or closed by us.
func ownSocket(x any) bool {
	o, ok := x.(OwnSocket)
	return ok && o.OwnSocket()
}

// closeWriter is a conn that can end its sending direction alone: TCP and
// Unix stream sockets, TLS, and gnc's own stdio (which closes stdout).
type closeWriter interface{ CloseWrite() error }

// Halves is implemented by conns whose two directions are separate objects,
// such as standard input and output or a child process's pipes. The engine
// reads ReadHalf and writes WriteHalf, so that each can be spliced on its own.
type Halves interface {
	// ReadHalf returns where the conn's incoming bytes come from; nil means
	// the conn never sends anything (gnc -d), so that direction is absent:
	// it counts as ended at once and is never half-closed.
	ReadHalf() io.Reader
	// WriteHalf returns where bytes sent to the conn go; it must not be nil
	// (use io.Discard to drop them).
	WriteHalf() io.Writer
}

// EndsWithPeer is implemented by conns that have no use for a pairing
// once the direction towards them has ended: a terminal on stdin (nobody
// can be expected to type an end of file) or one client of a stdin shared
// by many (stdin goes on for the others, so it never ends for this one).
type EndsWithPeer interface {
	EndsWithPeer() bool
}

// Tap observes every chunk a pairing copies, synchronously and in order per
// direction, before the chunk is written on. A tap forces the copy through
// user space (in chunks of at most TapChunk bytes, besides a Prefixed
// conn's bytes, which come as one chunk), so it must be cheap; it may
// block to bound its memory, which holds the copy back. p is only valid
// during the call. Counting bytes
// needs no tap: see Counters.
type Tap interface {
	Chunk(d Dir, p []byte)
	// EOF reports that direction d ended cleanly (it is then half-closed).
	EOF(d Dir)
}

// Options controls one pairing. The zero value copies both directions
// until both end, half-closing each as it ends, with no time limits.
type Options struct {
	// NoShutdown keeps a conn open for writing after the direction towards
	// it has ended, for peers that treat a FIN as an abort.
	NoShutdown bool
	// Idle ends a pairing that moved no byte in either direction for this
	// long, as a failure (Result.Err is ErrIdle). Zero or negative: no
	// idle limit.
	Idle time.Duration
	// Wait ends a pairing that moved no byte in either direction for this
	// long as a normal end (Result.Err nil, Reason "idle (-w)"), as nc's
	// -w does. Zero or negative: no such limit. With Idle also set, the
	// shorter one decides; when both are equal, Idle does.
	Wait time.Duration
	// Linger bounds how long the Backward direction may go on once the
	// Forward one has ended (nc's -q). Zero: no bound, wait for the peer.
	// Negative: end the pairing as soon as Forward ends.
	Linger time.Duration
	// Taps see every byte copied, each chunk by every tap in order; nil
	// entries are skipped. Without taps the engine moves bytes with splice
	// where it can.
	Taps []Tap
	// Counters, if not nil, is updated live with the bytes each direction
	// delivers, on every copy path. Several pairings may share one
	// Counters, which then holds their sum.
	Counters *Counters

	// server is the Server's aggregate, counted besides Counters.
	server *Counters
}

// Result says how a pairing went.
type Result struct {
	// Bytes holds the exact number of bytes delivered in each direction,
	// indexed by Dir.
	Bytes [2]int64
	// Datagrams holds the number of datagrams delivered in each direction
	// (indexed by Dir) from or to a Datagram conn; zero for a direction
	// between two streams.
	Datagrams [2]int64
	// Start is when the pairing began; Duration how long it lasted.
	Start    time.Time
	Duration time.Duration
	// Reason says in a few words why the pairing ended, such as "eof",
	// "idle timeout", "idle (-w)" or "linger expired".
	Reason string
	// Err is the failure that ended the pairing, nil when it ended
	// normally (both directions at end of file, a linger, Wait or
	// interactive end, or a cancellation).
	Err error
	// Exit says how the process of each conn that is a Process ended
	// (what its Reap said, such as "exit 0"), indexed like the conns: [0]
	// for the first conn given to Pair, [1] for the second; empty for a
	// conn that is not a Process.
	Exit [2]string
}

// ErrIdle is the Result.Err of a pairing ended by Options.Idle.
var ErrIdle = errors.New("idle timeout")

// Reasons a pairing ends with, besides "eof" and the failures'.
const (
	reasonIdle      = "idle timeout"
	reasonWait      = "idle (-w)"
	reasonCancelled = "cancelled"
	reasonExited    = "exited"
)

// pairing is the state of one Pair call. Its two directions run in two
// goroutines (the caller's and one more) and it is supervised by callbacks
// (context.AfterFunc, time.AfterFunc) rather than a third goroutine, so an
// idle pairing costs two goroutines and its two sockets.
type pairing struct {
	conns    [2]Conn
	opt      Options
	taps     []Tap        // opt.Taps without the nil entries
	activity atomic.Int64 // unix nanoseconds of the last chunk moved

	mu      sync.Mutex
	res     Result
	ended   int  // directions that have ended
	aborted bool // ended early; the conns are closed
	over    bool // Pair has returned: late callbacks do nothing
	linger  *time.Timer
	idle    *time.Timer
	done    [2]bool // direction d has ended
	exited  [2]bool // the Process of conn i has exited
}

// moved records n bytes delivered in direction d: the activity the idle
// limits watch, and the live counters.
func (p *pairing) moved(d Dir, n int64) {
	p.activity.Store(time.Now().UnixNano())
	if c := p.opt.Counters; c != nil {
		c.Add(d, n)
	}
	if c := p.opt.server; c != nil {
		c.Add(d, n)
	}
}

// Pair copies a's bytes to b (Forward) and b's to a (Backward) until both
// directions have ended, then closes both conns (and waits for the
// process of a conn that is a Process). A direction ends at end of
// file, after which the engine half-closes its destination; it fails on a
// read or write error, after which both conns are closed at once (a reset
// on one side resets the other). Cancelling ctx ends the pairing and closes
// both conns; that is not an error.
func Pair(ctx context.Context, a, b Conn, opt Options) Result {
	p := &pairing{conns: [2]Conn{a, b}, opt: opt, taps: opt.Taps}
	if slices.Contains(p.taps, nil) {
		p.taps = slices.DeleteFunc(slices.Clone(p.taps), func(t Tap) bool { return t == nil })
	}
	p.res = Result{Start: time.Now(), Reason: "eof"}
	p.activity.Store(p.res.Start.UnixNano())
	stop := context.AfterFunc(ctx, func() { p.abort(reasonCancelled, nil) })
	for i, c := range p.conns {
		if ab, ok := c.(Abortable); ok {
			ab.BindAbort(func(err error) { p.abort("dropped", err) })
		}
		if pr, ok := c.(Process); ok {
			pr.BindExit(func() { p.processExited(i) })
		}
	}
	if limit := p.quietLimit(); limit > 0 {
		p.mu.Lock()
		p.idle = time.AfterFunc(limit, p.checkIdle)
		p.mu.Unlock()
	}

	backward := make(chan struct{})
	go func() {
		defer close(backward)
		p.proxyCopy(Backward, a, b)
	}()
	p.proxyCopy(Forward, b, a)
	<-backward

	stop()
	p.mu.Lock()
	p.over = true
	for _, t := range []*time.Timer{p.linger, p.idle} {
		if t != nil {
			t.Stop()
		}
	}
	if !p.aborted {
		a.Close()
		b.Close()
	}
	p.mu.Unlock()
	// Late callbacks now do nothing, so the result is Pair's alone.
	p.reap()
	p.res.Duration = time.Since(p.res.Start)
	return p.res
}

// processExited records that the process of conn i has exited, and ends
// the pairing if the direction from it has ended too (see Process).
func (p *pairing) processExited(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exited[i] = true
	if p.done[i] && p.ended < 2 {
		p.abortLocked(reasonExited, nil)
	}
}

// reap waits for the processes of the conns that are one, once both
// conns are closed, and records how each ended.
func (p *pairing) reap() {
	hurry := p.res.Reason == reasonCancelled
	for i, c := range p.conns {
		if pr, ok := c.(Process); ok {
			p.res.Exit[i] = pr.Reap(hurry)
		}
	}
}

// abort ends the pairing early by closing both conns, which unblocks both
// directions. It is for callbacks from outside the copy (cancellation, the
// linger timer): once both directions have ended the pairing is over
// whatever Pair has yet to do, so a late callback changes nothing.
func (p *pairing) abort(reason string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended == 2 {
		return
	}
	p.abortLocked(reason, err)
}

func (p *pairing) abortLocked(reason string, err error) {
	if p.aborted || p.over {
		return
	}
	p.aborted = true
	p.res.Reason, p.res.Err = reason, err
	a, b := p.conns[0], p.conns[1]
	if errors.Is(err, syscall.ECONNRESET) {
		// Pass the reset on, so the other peer sees a failure rather than
		// a clean end of file.
		for _, c := range p.conns {
			if l, ok := c.(interface{ SetLinger(int) error }); ok {
				l.SetLinger(0)
			}
		}
	}
	a.Close()
	b.Close()
}

// quietLimit is how long the pairing may move nothing: the shorter of
// Idle and Wait that is set, or zero for no limit.
func (p *pairing) quietLimit() time.Duration {
	idle, wait := p.opt.Idle, p.opt.Wait
	switch {
	case idle > 0 && (wait <= 0 || idle <= wait):
		return idle
	case wait > 0:
		return wait
	}
	return 0
}

// checkIdle runs on the one timer Idle and Wait share: it ends the pairing
// if it has been quiet for quietLimit, or sets the timer again for the
// rest of that time.
func (p *pairing) checkIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.over || p.aborted || p.ended == 2 {
		return
	}
	limit := p.quietLimit()
	last := time.Unix(0, p.activity.Load())
	if rest := limit - time.Since(last); rest > 0 {
		p.idle.Reset(rest)
		return
	}
	if limit == p.opt.Idle {
		p.abortLocked(reasonIdle, ErrIdle)
	} else {
		p.abortLocked(reasonWait, nil)
	}
}

// finish records the end of direction d and decides how long the other
// direction may go on.
func (p *pairing) finish(d Dir, n int64, err error, absent bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.res.Bytes[d] = n
	p.ended++
	p.done[d] = true
	switch {
	case p.aborted:
	case err != nil:
		p.abortLocked(d.String()+" failed", err)
	case p.ended == 2:
	case p.exited[d]:
		// The source of d is a process that has exited, and all it
		// wrote has been delivered.
		p.abortLocked(reasonExited, nil)
	case d == Forward && p.opt.Linger < 0 && !absent:
		p.abortLocked("stdin eof (-q)", nil)
	case d == Forward && p.opt.Linger > 0 && !absent:
		p.linger = time.AfterFunc(p.opt.Linger, func() { p.abort("linger expired", nil) })
	case endsWithPeer(p.conns[1-d]):
		p.abortLocked("peer eof", nil)
	}
}

func endsWithPeer(c Conn) bool {
	e, ok := c.(EndsWithPeer)
	return ok && e.EndsWithPeer()
}

// proxyCopy copies one direction and half-closes its destination when the
// source ends, so the peer sees end of file and can still answer.
func (p *pairing) proxyCopy(d Dir, dst, src Conn) {
	r := readHalf(src)
	if r == nil {
		p.finish(d, 0, nil, true)
		return
	}
	w := writeHalf(dst)
	n, err := p.deliverPrefix(d, w, src, r)
	if err == nil {
		var m int64
		m, err = p.copyStream(d, w, r)
		n += m
	}
	if err != nil && isProcess(dst) && errors.Is(err, syscall.EPIPE) {
		// The process closed its input or exited: see Process.
		err = dropRest(r)
	}
	if err == nil {
		for _, t := range p.taps {
			t.EOF(d)
		}
		if !p.opt.NoShutdown && !p.closingNext(d, dst) {
			if cw, ok := dst.(closeWriter); ok {
				// A conn already closed by the other side is not this
				// direction's failure.
				if cerr := cw.CloseWrite(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && !errors.Is(cerr, syscall.ENOTCONN) {
					err = cerr
				}
			}
		}
	}
	p.finish(d, n, err, false)
}

// closingNext reports whether direction d is the last to end and its
// destination is a socket, which Pair is about to close: close(2) sends the
// FIN itself, so a shutdown(2) first would only cost a system call on
// every connection. Both directions have read to end of file by then, so
// the close cannot turn into a reset.
func (p *pairing) closingNext(d Dir, dst Conn) bool {
	if !ownSocket(dst) {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ended == 1 && !p.aborted
}

func isProcess(c Conn) bool {
	_, ok := c.(Process)
	return ok
}

// dropRest reads r to its end and drops what it reads, so that a source
// whose destination went away is neither blocked nor reset.
func dropRest(r io.Reader) error {
	bp := smallPool.Get().(*[]byte)
	defer smallPool.Put(bp)
	for {
		_, err := r.Read(*bp)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return opError("read", r, err)
		}
	}
}

func readHalf(c Conn) io.Reader {
	if h, ok := c.(Halves); ok {
		return h.ReadHalf()
	}
	return c
}

func writeHalf(c Conn) io.Writer {
	if h, ok := c.(Halves); ok {
		return h.WriteHalf()
	}
	return c
}

// deliverPrefix writes the bytes src (or its read half r) has already read
// ahead, if it is Prefixed, through the taps and counters, before the
// copy proper reads the conn itself.
func (p *pairing) deliverPrefix(d Dir, w io.Writer, src Conn, r io.Reader) (int64, error) {
	var n int64
	for _, x := range []any{src, r} {
		pf, ok := x.(Prefixed)
		if !ok {
			continue
		}
		b := pf.TakePrefix()
		if len(b) == 0 {
			continue
		}
		m, err := p.deliver(d, w, b)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// deliver shows b to the taps, writes it to w and counts it.
func (p *pairing) deliver(d Dir, w io.Writer, b []byte) (int64, error) {
	for _, t := range p.taps {
		t.Chunk(d, b)
	}
	m, err := w.Write(b)
	if m > 0 {
		p.moved(d, int64(m))
	}
	if err == nil && m < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return int64(m), opError("write", w, err)
	}
	return int64(m), nil
}
