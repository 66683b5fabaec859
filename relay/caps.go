package relay

import (
	"context"
	"sync/atomic"
)

// The capabilities below are how an endpoint tells the engine what its
// conns are. The engine never guesses from concrete types or from which
// methods happen to exist: a wrapper (TLS, a proxy's buffered conn) says
// what it is, or is treated as the least it could be.

// OwnSocket is implemented by conns that are a stream socket gnc opened
// and alone holds: a dialed or accepted TCP or Unix socket. Only such a
// conn may be shut down or closed to send a FIN right behind the last
// bytes (MSG_MORE), have socket options such as SO_RCVLOWAT raised, or
// carry read deadlines the engine sets for its own purposes. Anything
// without it, or whose method returns false, is treated as possibly
// shared with other processes (standard input or output) or as a
// wrapper whose bytes are not the socket's (TLS).
type OwnSocket interface {
	OwnSocket() bool
}

// Prefixed is implemented by conns that have already read bytes past
// what their opener consumed: a proxy client reading a reply head, a
// proxy server reading a request. The engine delivers those bytes first,
// through the pairing's counters and taps, and then reads (or splices)
// the conn itself, so the bytes are never lost and the rest still takes
// the zero-copy path.
type Prefixed interface {
	// TakePrefix returns the bytes read ahead and forgets them: later
	// calls, and the conn's own Read, no longer return them. It returns
	// nil when there are none.
	TakePrefix() []byte
}

// Handshaker is implemented by accepted conns that must complete an
// exchange before they carry data: a TLS server's handshake. The server
// runs it in the conn's own goroutine, after the Admit check and before
// anything is opened for the conn, so a client that never completes it
// holds up no one else; the conn bounds it with its own timeout.
type Handshaker interface {
	HandshakeContext(ctx context.Context) error
}

// PeerOpener is implemented by endpoints whose conn depends on what the
// accepted client asks for, such as a proxy server, which reads the
// client's request for a destination, dials it and answers. The server
// calls OpenFor with the accepted conn instead of Open; it returns the
// conn to pair in the client's place (the same one, or one that hands
// over bytes read past the request through Prefixed) and the conn it
// opened. On failure it has answered the client itself, and the server
// closes the client. Paired with an endpoint that does not listen either,
// it is opened second, with the other side's conn as peer.
type PeerOpener interface {
	OpenFor(ctx context.Context, peer Conn) (client, opened Conn, err error)
}

// ReadWaiter is implemented by conns the engine cannot poll through a
// descriptor (TLS), so that a copy waits for their data before borrowing a
// buffer: WaitRead blocks until a Read would return at once, with data,
// an end of file or an error. Without it, an idle pairing of such a conn
// would hold a buffer for as long as it sits blocked in Read.
type ReadWaiter interface {
	WaitRead() error
}

// SingleUse is implemented by endpoints that can be opened only once,
// such as standard I/O without -k. A server whose other side is such an
// endpoint makes one pairing and ends, instead of accepting clients it
// could never serve.
type SingleUse interface {
	SingleUse() bool
}

// Counters are live byte counts per direction, updated by every copy
// path (splice included) as bytes are delivered, and readable at any
// time from any goroutine (a progress meter, -vv). The zero value is
// ready to use and counts from zero.
type Counters struct {
	n [2]atomic.Int64
}

// Add counts n more bytes delivered in direction d.
func (c *Counters) Add(d Dir, n int64) { c.n[d].Add(n) }

// Load returns the bytes delivered so far in direction d.
func (c *Counters) Load(d Dir) int64 { return c.n[d].Load() }

// Abortable is implemented by conns that may have to end their pairing
// from outside its copies, such as a -k client dropped for not reading
// stdin while the engine is blocked writing to it, where nothing its Read
// could return would be seen. Pair calls BindAbort once for each conn,
// before copying, with a function that ends the pairing with err (both
// conns are closed at once, the Result's Reason is "dropped" and its Err
// is err). The function may be called from any goroutine, any number of
// times; calls after the first, or after Pair has returned, do nothing.
type Abortable interface {
	BindAbort(abort func(err error))
}

// Process is implemented by conns that stand for a process gnc started,
// such as a child's pipes or the terminal it runs on. Three things follow
// from it:
//
//   - Once the process has exited and the direction from its conn has
//     ended (all it wrote has been delivered), the pairing ends normally,
//     with Reason "exited", even if the peer is still connected and
//     silent: nobody is left to read what it might send. Pair calls
//     BindExit once, before copying, with the function the conn calls when
//     its process has exited.
//   - A write to the conn that finds nobody reading (EPIPE: the process
//     closed its input, or exited) ends that direction quietly: the rest
//     of what the source sends is read and dropped, so that the peer is
//     neither blocked nor reset, and the other direction goes on.
//   - After closing the conn, Pair calls Reap and waits for it, so that a
//     pairing ends only when its process has; Result.Exit holds what Reap
//     said.
type Process interface {
	// BindExit registers exited, which the conn calls once, from any
	// goroutine, when its process has exited (at once if it already has).
	BindExit(exited func())
	// Reap waits, after Close, until the process has ended, ending it by
	// the conn's own policy if it does not end by itself, and says how it
	// ended in a few words ("exit 0", "killed by SIGTERM"). hurry says
	// that gnc is stopping (the pairing was cancelled), so the process is
	// not given time to end of its own accord.
	Reap(hurry bool) string
}

// Grower is implemented by conns whose buffers gnc made for them alone and
// may enlarge, such as a program's stdin and stdout pipes, which Linux
// makes 64 KiB. Once a direction has moved growAfter bytes, a long
// stream rather than a request and its answer, the engine calls Grow
// once for each end of it that is a Grower: out true for the conn it
// reads, false for the conn it writes. The stream then crosses in fewer
// and larger system calls on both sides of the buffer, gnc's and the
// program's; short exchanges never pay for it. Grow does nothing where it
// cannot, and its failures (a limit on pipe memory) are not errors.
type Grower interface {
	Grow(out bool)
}
