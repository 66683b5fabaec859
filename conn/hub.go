package conn

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// stallTimeout is how long a -k client may go without taking a byte of
// stdin while other clients wait for it, before it is dropped. Stdin is
// read once for everybody, so one client that never reads (a stuck or
// malicious peer, a full window) would otherwise freeze stdin for all
// the others. It is long enough that a client that is merely slow, or
// briefly held up by a busy machine or a lost segment, is not taken for a
// stuck one, and short enough that the others do not look hung.
const stallTimeout = 2 * time.Second

// ErrStalled is the Result.Err of the pairing of a -k client that was
// dropped because it took no input for 2s while other clients
// waited for it.
var ErrStalled = errors.New("took no input for " + stallTimeout.String() + " while other clients waited")

// hubChunk is how much of stdin the hub reads and hands out at a time.
const hubChunk = 64 << 10

// hub shares standard I/O among many conns: one goroutine reads stdin and
// hands each chunk to every member, waiting until all have taken it, so
// memory stays at one chunk and a slow member slows stdin, never loses it.
// A member that takes nothing for stallTimeout while others wait is
// dropped (its pairing is ended).
//
// The chunk's buffer is reused for the next read, so a member copies from
// it only under its own lock, and only while it holds the chunk; the
// broadcaster reads again only once every member has let go of the chunk,
// by taking all of it, by closing, or by being dropped.
type hub struct {
	src      io.Reader // stdin as members read it; nil: never read (-d)
	stop     func()    // unblocks a read of src in progress; may be nil
	waitStop bool      // stop reaches a read in progress, so shutdown may wait
	out      io.Writer // stdout; nil: what members write is dropped
	stall    time.Duration

	mu      sync.Mutex
	members map[*member]struct{}
	eof     bool
	started bool
	done    chan struct{} // closed when the broadcaster has returned
	quit    chan struct{} // closed by shutdown

	// For the chunk being handed out:
	left atomic.Int64  // holds not yet let go (one per member, one of the broadcaster's)
	took atomic.Int64  // members that have taken all of it
	poke chan struct{} // the broadcaster has something to look at

	outMu sync.Mutex // one member's chunk on stdout at a time
}

func newHub(src io.Reader, stop func(), waitStop bool, out io.Writer) *hub {
	return &hub{
		src: src, stop: stop, waitStop: waitStop, out: out, stall: stallTimeout,
		members: make(map[*member]struct{}),
		quit:    make(chan struct{}),
		poke:    make(chan struct{}, 1),
	}
}

// wake tells the broadcaster to look at the members again.
func (h *hub) wake() {
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

// letGo counts one hold on the current chunk as ended; took says the
// member took all of it.
func (h *hub) letGo(took bool) {
	if took && h.took.Add(1) == 1 {
		h.wake() // someone now waits for the others: time their progress
	}
	if h.left.Add(-1) == 0 {
		h.wake()
	}
}

func (h *hub) join() *member {
	m := &member{h: h, ready: make(chan struct{}, 1), eof: make(chan struct{}), closed: make(chan struct{})}
	if h.src == nil {
		return m // ReadHalf is nil: the engine never reads it
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.eof || h.closing() {
		close(m.eof)
		return m
	}
	h.members[m] = struct{}{}
	if !h.started {
		h.started = true
		h.done = make(chan struct{})
		go h.broadcast()
	}
	h.wake() // one more member waiting: holders of a chunk may now be stalling it
	return m
}

func (h *hub) broadcast() {
	defer close(h.done)
	buf := make([]byte, hubChunk)
	var ms []*member
	for {
		if h.closing() {
			// A regular file's read cannot be interrupted and never waits:
			// without this, shutdown would wait for all of it to be read.
			h.finish()
			return
		}
		n, err := h.src.Read(buf)
		if n > 0 {
			h.mu.Lock()
			ms = ms[:0]
			for m := range h.members {
				ms = append(ms, m)
			}
			h.mu.Unlock()
			if !h.deliver(buf[:n], ms) {
				err = io.EOF
			}
		}
		if err != nil {
			h.finish()
			return
		}
	}
}

// finish tells every member that stdin has ended.
func (h *hub) finish() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.eof = true
	for m := range h.members {
		close(m.eof)
	}
	h.members = map[*member]struct{}{}
}

// closing reports whether shutdown has begun.
func (h *hub) closing() bool {
	select {
	case <-h.quit:
		return true
	default:
		return false
	}
}

// deliver hands p to every member of ms and waits until all have let go
// of it, dropping those that stall; false means the hub is shutting down.
func (h *hub) deliver(p []byte, ms []*member) bool {
	h.took.Store(0)
	h.left.Store(int64(len(ms)) + 1) // +1 until every member has it
	now := time.Now()
	for _, m := range ms {
		if !m.give(p, now) {
			h.left.Add(-1)
		}
	}
	h.letGo(false)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for h.left.Load() > 0 {
		var tick <-chan time.Time
		if next := h.checkStalls(ms); next > 0 {
			if timer == nil {
				timer = time.NewTimer(next)
			} else {
				timer.Reset(next)
			}
			tick = timer.C
		}
		select {
		case <-h.poke:
		case <-tick:
		case <-h.quit:
			return false
		}
	}
	return true
}

// checkStalls drops the members of ms that hold the current chunk and have
// taken nothing for h.stall while another member waits, and returns when
// to look again (zero: only when poked).
func (h *hub) checkStalls(ms []*member) time.Duration {
	holding := h.left.Load() // after deliver's own hold: the members holding the chunk
	if holding <= 0 {
		return 0
	}
	if !h.hasOthers(int(holding)) {
		// Nobody waits yet. Someone may come to without a poke (only the
		// first member to take the whole chunk pokes), so look again.
		return h.stall
	}
	now := time.Now()
	type holder struct {
		m    *member
		idle time.Duration
	}
	var holders []holder
	for _, m := range ms {
		m.mu.Lock()
		if m.chunk != nil {
			holders = append(holders, holder{m, now.Sub(m.last)})
		}
		m.mu.Unlock()
	}
	var next time.Duration
	for _, x := range holders {
		if x.idle >= h.stall {
			h.drop(x.m)
			continue
		}
		if wait := h.stall - x.idle; next == 0 || wait < next {
			next = wait
		}
	}
	return next
}

// hasOthers reports whether there are more members than holding.
func (h *hub) hasOthers(holding int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.members) > holding
}

// drop ends m's membership and its pairing with ErrStalled.
func (h *hub) drop(m *member) {
	m.mu.Lock()
	if m.ended || m.dropped {
		m.mu.Unlock()
		return
	}
	m.dropped = true
	m.letGoLocked(false)
	abort := m.abort
	m.mu.Unlock()
	h.mu.Lock()
	delete(h.members, m)
	h.mu.Unlock()
	if abort != nil {
		// The engine may be blocked writing to the client, beyond the
		// reach of anything Read could return: end the pairing itself.
		abort(ErrStalled)
	}
	m.end(ErrStalled)
}

// shutdown stops the stdin reader and, where its read can be interrupted,
// waits for it.
func (h *hub) shutdown() {
	h.mu.Lock()
	started := h.started
	if !h.closing() {
		close(h.quit)
	}
	h.mu.Unlock()
	if !started {
		return
	}
	if h.stop != nil {
		h.stop()
	}
	if h.waitStop || h.stop == nil {
		<-h.done
	}
}

// member is one conn of a shared stdio: Read takes the hub's chunks of
// stdin, Write puts whole chunks on stdout.
type member struct {
	h      *hub
	ready  chan struct{} // a chunk was handed over (capacity 1)
	eof    chan struct{} // closed when stdin has ended and every chunk was taken
	closed chan struct{} // closed when the member ends

	mu      sync.Mutex
	chunk   []byte    // what is left of the current chunk; nil when not held
	last    time.Time // when the member last took bytes or was handed a chunk
	ended   bool
	dropped bool
	err     error // what Read returns once ended
	abort   func(error)
}

// give hands p to m; false means m is gone.
func (m *member) give(p []byte, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended || m.dropped {
		return false
	}
	m.chunk, m.last = p, now
	select {
	case m.ready <- struct{}{}:
	default:
	}
	return true
}

// letGoLocked ends m's hold on the current chunk, if any; m.mu is held.
func (m *member) letGoLocked(took bool) {
	if m.chunk == nil {
		return
	}
	m.chunk = nil
	m.h.letGo(took)
}

// end ends the member with err, which Read returns from then on.
func (m *member) end(err error) {
	m.mu.Lock()
	if m.ended {
		m.mu.Unlock()
		return
	}
	m.ended, m.err = true, err
	m.letGoLocked(false)
	close(m.closed)
	m.mu.Unlock()
	m.h.mu.Lock()
	delete(m.h.members, m)
	m.h.mu.Unlock()
}

func (m *member) Read(p []byte) (int, error) {
	atEOF := false
	for {
		m.mu.Lock()
		if m.ended {
			err := m.err
			m.mu.Unlock()
			return 0, err
		}
		if m.chunk != nil {
			n := copy(p, m.chunk)
			m.chunk = m.chunk[n:]
			m.last = time.Now()
			if len(m.chunk) == 0 {
				m.letGoLocked(true)
			}
			m.mu.Unlock()
			return n, nil
		}
		m.mu.Unlock()
		if atEOF {
			return 0, io.EOF
		}
		select {
		case <-m.ready:
		case <-m.eof:
			atEOF = true // after a last look at the chunk
		case <-m.closed:
		}
	}
}

// Write sends one chunk to stdout whole, under the hub's lock, so two
// clients' bytes never interleave inside a chunk.
func (m *member) Write(p []byte) (int, error) {
	if m.h.out == nil {
		return len(p), nil
	}
	m.h.outMu.Lock()
	defer m.h.outMu.Unlock()
	return m.h.out.Write(p)
}

// ReadHalf is the member itself, or nil with -d, so that, as with a
// single stdio conn, a client is never half-closed for a stdin nobody reads.
func (m *member) ReadHalf() io.Reader {
	if m.h.src == nil {
		return nil
	}
	return m
}

// WriteHalf is the member itself.
func (m *member) WriteHalf() io.Writer { return m }

// CloseWrite does nothing: stdout is shared with the other members.
func (m *member) CloseWrite() error { return nil }

// EndsWithPeer is always true: the shared stdin may never end, so a
// client that has finished sending is done (as with ncat --keep-open).
func (m *member) EndsWithPeer() bool { return true }
func (m *member) String() string     { return "stdio" }

// BindAbort is how the engine lets the hub end the member's pairing when
// it drops the member for stalling (see relay.Abortable).
func (m *member) BindAbort(abort func(err error)) {
	m.mu.Lock()
	m.abort = abort
	m.mu.Unlock()
}

// Close ends the member: a Read in progress returns net.ErrClosed, and
// the member no longer holds back stdin for the others.
func (m *member) Close() error {
	m.end(net.ErrClosed)
	return nil
}
