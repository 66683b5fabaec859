package relay

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Endpoint is where one side of each pairing comes from.
type Endpoint interface {
	// Open returns the endpoint's next conn: a listening endpoint accepts
	// one, any other dials one (or opens stdio, starts a process...). It
	// must return promptly with an error once ctx is done.
	Open(ctx context.Context) (Conn, error)
	// Close releases the endpoint; a listener stops accepting.
	Close() error
	// String names the endpoint for messages, as the user wrote it.
	String() string
}

// Listener is implemented by endpoints that wait for their peers, such as
// a listening socket. The server accepts on them before it opens the other
// side, and serves many pairings from one when asked to.
type Listener interface {
	Endpoint
	// Addr is the address the endpoint listens on, with any port 0
	// resolved to the port the kernel chose.
	Addr() net.Addr
}

// EventKind says what an Event reports.
type EventKind int

// The events a Server reports, in the order they usually happen.
const (
	// Listening: Endpoint listens on Addr.
	Listening EventKind = iota
	// Accepted: Endpoint accepted Conn for pairing ID (after its
	// handshake, for a Handshaker).
	Accepted
	// Rejected: the Admit check refused Conn (Err says why); it was closed.
	Rejected
	// HandshakeFailed: the handshake of Conn, accepted for pairing ID,
	// failed (Err says why); it was closed and the server goes on.
	HandshakeFailed
	// Connected: Endpoint opened Conn for pairing ID in Elapsed.
	Connected
	// OpenFailed: Endpoint could not open a conn for pairing ID (Err);
	// the other side, if any, was closed.
	OpenFailed
	// Retrying: the server will try again after Delay (attempt number
	// Attempt, counted from 1), because of Err.
	Retrying
	// Opened: pairing ID starts copying between Conn and Peer.
	Opened
	// Closed: pairing ID ended; Result says how.
	Closed
	// Draining: the server stopped accepting and waits up to Delay for
	// Count open pairings to end.
	Draining
	// DrainExpired: the drain of Delay ran out with Count pairings still
	// open; they are cut off now.
	DrainExpired
)

// Event is one thing worth telling the user; which fields are set depends
// on Kind.
type Event struct {
	// Kind says what happened, and so which of the other fields are set.
	Kind EventKind
	// ID numbers the pairing, from 1; zero for events of no pairing.
	ID uint64
	// Endpoint is the endpoint the event is about (the one that listened,
	// dialed or failed); nil when none is.
	Endpoint Endpoint
	// Addr is a listening address; nil when the event has none.
	Addr net.Addr
	// Conn is the conn opened or accepted on Endpoint, and Peer the
	// other side's conn of the same pairing; either nil when not open.
	Conn Conn
	Peer Conn
	// Err is the failure an event reports; nil for the others.
	Err error
	// Elapsed is how long the open took (Connected); zero elsewhere.
	Elapsed time.Duration
	// Delay is a wait to come: the back-off before the next attempt
	// (Retrying), or the drain's bound (Draining, DrainExpired).
	Delay time.Duration
	// Attempt is the number of the attempt that just failed, from 1
	// (Retrying).
	Attempt int
	// Count is a number of pairings (Draining, DrainExpired).
	Count int
	// Result is a pairing's outcome (Closed).
	Result Result
}

// Server pairs conns from two endpoints and relays between them. How many
// pairings it makes follows from which endpoints listen:
//
//   - one listening side: with From listening, one pairing per accepted
//     conn, concurrently, until stopped (port forwarding), unless Once; with
//     only To listening, one pairing unless Keep;
//   - both listening: the first conn of each side are paired, and with Keep
//     every later pair in arrival order;
//   - neither listening: one pairing; with Keep a new one each time the last
//     ends, with capped exponential back-off between failed attempts.
type Server struct {
	// From and To are the two sides; each pairing joins a conn from
	// each. Neither may be nil.
	From, To Endpoint
	// Keep makes the server go on pairing after the first pairing.
	Keep bool
	// Once limits a listening From to a single pairing.
	Once bool
	// MaxConns bounds the pairings open at once; clients beyond it wait in
	// the listener's backlog. Zero or negative: no bound.
	MaxConns int
	// Drain is how long open pairings may go on after Run's context is
	// cancelled; zero or negative ends them at once.
	Drain time.Duration
	// Options applies to every pairing.
	Options Options
	// Admit, if not nil, is asked about every accepted conn before anything
	// is dialed for it; an error rejects the conn.
	Admit func(remote net.Addr) error
	// Taps make taps for each pairing, which see its bytes after those of
	// Options.Taps; a func returning nil adds none to that pairing. id is
	// the pairing's, and from and to are its Forward source and
	// destination.
	Taps []func(id uint64, from, to Conn) Tap
	// Notify, if not nil, receives events; it is called from many
	// goroutines at once.
	Notify func(Event)
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts; zero means 250ms and 30s.
	MinBackoff, MaxBackoff time.Duration

	ids    atomic.Uint64
	wg     sync.WaitGroup
	mu     sync.Mutex
	kill   context.CancelFunc
	killed bool
	err    error // the single pairing's failure, in modes that make one
	open   atomic.Int64
	opened atomic.Int64
	bytes  Counters // over all pairings, live
}

// Stats are a Server's live totals.
type Stats struct {
	// Bytes holds the bytes delivered in each direction (indexed by Dir)
	// by all pairings so far, those still open included, as they move.
	Bytes [2]int64
	// Open is the number of pairings copying now.
	Open int64
	// Opened is the number of pairings started so far (accepted conns
	// that were rejected or whose other side failed to open are not).
	Opened int64
}

// Stats returns the server's totals so far. It may be called at any time,
// from any goroutine, before, during or after Run.
func (s *Server) Stats() Stats {
	return Stats{
		Bytes:  [2]int64{s.bytes.Load(Forward), s.bytes.Load(Backward)},
		Open:   s.open.Load(),
		Opened: s.opened.Load(),
	}
}

// Many reports whether Run may make more than one pairing, so that
// messages and dumps should tell pairings apart.
func (s *Server) Many() bool {
	_, fromListens := s.From.(Listener)
	return s.Keep || fromListens && !s.once()
}

// once reports whether a listening From serves a single pairing: when
// asked to, or when To can be opened only once (stdio without -k), so
// that later clients are not accepted only to be turned away.
func (s *Server) once() bool {
	su, ok := s.To.(SingleUse)
	return s.Once || ok && su.SingleUse()
}

// Kill ends every open pairing at once, cutting a drain short. It may be
// called at any time, from any goroutine.
func (s *Server) Kill() {
	s.mu.Lock()
	s.killed = true
	k := s.kill
	s.mu.Unlock()
	if k != nil {
		k()
	}
}

func (s *Server) notify(e Event) {
	if s.Notify != nil {
		s.Notify(e)
	}
}

// Run serves until there is nothing more to pair or ctx is cancelled, then
// waits for open pairings (up to Drain) and closes both endpoints. In the
// modes that make a single pairing it returns that pairing's failure.
func (s *Server) Run(ctx context.Context) error {
	killCtx, kill := context.WithCancel(context.Background())
	defer kill()
	s.mu.Lock()
	s.kill = kill
	if s.killed {
		kill()
	}
	s.mu.Unlock()
	defer s.From.Close()
	defer s.To.Close()

	fl, fromListens := s.From.(Listener)
	tl, toListens := s.To.(Listener)
	if fromListens {
		s.notify(Event{Kind: Listening, Endpoint: s.From, Addr: fl.Addr()})
	}
	if toListens {
		s.notify(Event{Kind: Listening, Endpoint: s.To, Addr: tl.Addr()})
	}

	var err error
	switch {
	case fromListens && toListens:
		err = s.rendezvous(ctx, killCtx)
	case fromListens && !s.once():
		err = s.serveMany(ctx, killCtx, s.From, s.To, true)
	case toListens && s.Keep:
		err = s.serveMany(ctx, killCtx, s.To, s.From, false)
	case fromListens || toListens:
		err = s.serveOnce(ctx, killCtx)
	default:
		err = s.dialLoop(ctx, killCtx)
	}

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.stopAccepting()
		if s.Drain > 0 {
			n := s.open.Load()
			if n > 0 {
				s.notify(Event{Kind: Draining, Delay: s.Drain, Count: int(n)})
			}
			t := time.NewTimer(s.Drain)
			select {
			case <-done:
			case <-t.C:
				if n := s.open.Load(); n > 0 {
					s.notify(Event{Kind: DrainExpired, Delay: s.Drain, Count: int(n)})
				}
			case <-killCtx.Done():
			}
			t.Stop()
		}
		kill()
		<-done
	}
	if err != nil {
		return err
	}
	return s.err
}

// stopAccepting closes the listening endpoints; conns already accepted
// live on.
func (s *Server) stopAccepting() {
	if _, ok := s.From.(Listener); ok {
		s.From.Close()
	}
	if _, ok := s.To.(Listener); ok {
		s.To.Close()
	}
}

// start runs a pairing in its own goroutine; the returned channel is closed
// when it ends.
func (s *Server) start(kill context.Context, id uint64, a, b Conn, single bool) <-chan struct{} {
	s.wg.Add(1)
	ended := make(chan struct{})
	go func() {
		defer s.wg.Done()
		defer close(ended)
		s.pair(kill, id, a, b, single)
	}()
	return ended
}

// pair runs one pairing in the calling goroutine and reports it.
func (s *Server) pair(kill context.Context, id uint64, a, b Conn, single bool) {
	s.open.Add(1)
	s.opened.Add(1)
	opt := s.Options
	opt.server = &s.bytes
	if len(s.Taps) > 0 {
		// A fresh slice: pairings run at once and must not share one.
		taps := make([]Tap, 0, len(opt.Taps)+len(s.Taps))
		taps = append(taps, opt.Taps...)
		for _, newTap := range s.Taps {
			if t := newTap(id, a, b); t != nil {
				taps = append(taps, t)
			}
		}
		opt.Taps = taps
	}
	s.notify(Event{Kind: Opened, ID: id, Conn: a, Peer: b})
	res := Pair(kill, a, b, opt)
	s.open.Add(-1) // before Closed, so that whoever it tells sees the count
	s.notify(Event{Kind: Closed, ID: id, Conn: a, Peer: b, Result: res})
	if single {
		s.mu.Lock()
		s.err = res.Err
		s.mu.Unlock()
	}
}

// openSide opens the non-listening side of a pairing and reports it.
func (s *Server) openSide(ctx context.Context, id uint64, e Endpoint) (Conn, error) {
	t0 := time.Now()
	c, err := e.Open(ctx)
	if err != nil {
		return nil, err
	}
	s.notify(Event{Kind: Connected, ID: id, Endpoint: e, Conn: c, Elapsed: time.Since(t0)})
	return c, nil
}

// openFor opens the side of a pairing that answers the accepted conn
// peer: through e's OpenFor when e is a PeerOpener (the accepted conn may
// then be replaced), through Open otherwise.
func (s *Server) openFor(ctx context.Context, id uint64, e Endpoint, peer Conn) (client, opened Conn, err error) {
	po, ok := e.(PeerOpener)
	if !ok {
		opened, err = s.openSide(ctx, id, e)
		return peer, opened, err
	}
	t0 := time.Now()
	client, opened, err = po.OpenFor(ctx, peer)
	if err != nil {
		return peer, nil, err
	}
	s.notify(Event{Kind: Connected, ID: id, Endpoint: e, Conn: opened, Peer: client, Elapsed: time.Since(t0)})
	return client, opened, nil
}

// ready completes an accepted conn's handshake, if it has one, and
// reports it accepted; false means it failed, was reported and closed.
func (s *Server) ready(ctx context.Context, l Endpoint, c Conn, id uint64) bool {
	h, ok := c.(Handshaker)
	if !ok {
		return true // reported when accepted
	}
	if err := h.HandshakeContext(ctx); err != nil {
		c.Close()
		if ctx.Err() == nil {
			s.notify(Event{Kind: HandshakeFailed, ID: id, Endpoint: l, Conn: c, Err: err})
		}
		return false
	}
	s.notify(Event{Kind: Accepted, ID: id, Endpoint: l, Conn: c})
	return true
}

// accept takes the next admitted conn from a listening endpoint. Rejected
// conns and passing failures (out of descriptors, say) are reported and
// skipped; it returns an error only when the endpoint can accept no more.
// pace spaces the accepts while descriptors or memory run short.
func (s *Server) accept(ctx context.Context, l Endpoint, pace *pacer) (Conn, uint64, error) {
	for {
		if !pace.wait(ctx) {
			return nil, 0, ctx.Err()
		}
		c, err := l.Open(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			if !temporary(err) {
				return nil, 0, err
			}
			s.notify(Event{Kind: Retrying, Endpoint: l, Err: err, Delay: pace.short()})
			continue
		}
		id := s.ids.Add(1)
		if _, later := c.(Handshaker); !later {
			s.notify(Event{Kind: Accepted, ID: id, Endpoint: l, Conn: c})
		}
		if s.Admit != nil {
			if err := s.Admit(remoteAddr(c)); err != nil {
				s.notify(Event{Kind: Rejected, ID: id, Endpoint: l, Conn: c, Err: err})
				c.Close()
				continue
			}
		}
		return c, id, nil
	}
}

// pacer spaces a listener's accepts, as net/http does, while the process
// is short of descriptors or memory: when accept(2) fails for that, or
// when the other side of a conn just accepted cannot be opened for that
// (the accept took the last descriptor, the dial finds none). Without it
// the server would accept and drop a client each time a descriptor came
// free. The wait doubles with each such failure up to a second, and ends
// when a pairing opens.
type pacer struct {
	mu    sync.Mutex
	delay time.Duration
	until time.Time
}

// short records a failure for lack of resources and returns the wait
// before the next accept.
func (p *pacer) short() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = min(max(2*p.delay, 5*time.Millisecond), time.Second)
	p.until = time.Now().Add(p.delay)
	return p.delay
}

// ok records that resources were there: accepts go at full speed again.
func (p *pacer) ok() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay, p.until = 0, time.Time{}
}

// wait waits out the current pause; false means ctx ended first.
func (p *pacer) wait(ctx context.Context) bool {
	p.mu.Lock()
	d := time.Until(p.until)
	p.mu.Unlock()
	return d <= 0 || sleep(ctx, d)
}

// serveMany accepts on l until ctx is cancelled and pairs each conn with a
// fresh conn from other.
func (s *Server) serveMany(ctx, kill context.Context, l, other Endpoint, listenerIsFrom bool) error {
	slots := newSlots(s.MaxConns)
	var pace pacer
	for {
		if !slots.take(ctx) {
			return nil
		}
		c, id, err := s.accept(ctx, l, &pace)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer slots.give()
			if !s.ready(kill, l, c, id) {
				return
			}
			c, o, err := s.openFor(kill, id, other, c)
			if err != nil {
				c.Close()
				if temporary(err) {
					pace.short()
				}
				s.notify(Event{Kind: OpenFailed, ID: id, Endpoint: other, Err: err})
			} else {
				pace.ok()
				a, b := c, o
				if !listenerIsFrom {
					a, b = o, c
				}
				s.pair(kill, id, a, b, false)
			}
		}()
	}
}

// serveOnce accepts one conn, stops listening, and pairs it with one conn
// from the other side: nc -l without -k.
func (s *Server) serveOnce(ctx, kill context.Context) error {
	l, other, listenerIsFrom := s.From, s.To, true
	if _, ok := s.To.(Listener); ok {
		l, other, listenerIsFrom = s.To, s.From, false
	}
	c, id, err := s.acceptReady(ctx, l)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	l.Close()
	c, o, err := s.openFor(ctx, id, other, c)
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a, b := c, o
	if !listenerIsFrom {
		a, b = o, c
	}
	s.start(kill, id, a, b, true)
	return nil
}

// acceptReady accepts until one conn is ready to pair. A plain conn is
// ready at once. A conn with a handshake runs it in a goroutine of its
// own while accepting goes on, and the first to complete wins (the others
// are closed), so a client that connects and never speaks cannot keep
// the one client a listener serves from being someone else.
func (s *Server) acceptReady(ctx context.Context, l Endpoint) (Conn, uint64, error) {
	pace := new(pacer)
	c, id, err := s.accept(ctx, l, pace)
	if err != nil {
		return nil, 0, err
	}
	if _, ok := c.(Handshaker); !ok {
		return c, id, nil
	}
	type readyConn struct {
		c   Conn
		id  uint64
		err error
	}
	hctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	won := make(chan readyConn, 1)
	try := func(c Conn, id uint64) {
		defer wg.Done()
		if !s.ready(hctx, l, c, id) {
			return
		}
		select {
		case won <- readyConn{c: c, id: id}:
			stop() // the others' handshakes end, and so does accepting
		default:
			c.Close()
		}
	}
	wg.Add(2)
	go try(c, id)
	go func() {
		defer wg.Done()
		for {
			c, id, err := s.accept(hctx, l, pace)
			if err != nil {
				if hctx.Err() == nil {
					select {
					case won <- readyConn{err: err}:
					default:
					}
				}
				return
			}
			wg.Add(1)
			go try(c, id)
		}
	}()
	var r readyConn
	select {
	case r = <-won:
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	stop()
	wg.Wait()
	// A handshake that completed as the others were being stopped.
	select {
	case late := <-won:
		if late.c != nil {
			late.c.Close()
		}
	default:
	}
	return r.c, r.id, r.err
}

// rendezvous pairs the clients of two listening endpoints in arrival order.
// Each side's next client waits in its listener's backlog until it is its
// turn, so order is kept without queueing conns here.
func (s *Server) rendezvous(ctx, kill context.Context) error {
	type accepted struct {
		c   Conn
		id  uint64
		err error
	}
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	acceptInto := func(l Endpoint, ch chan<- accepted) {
		defer wg.Done()
		var pace pacer
		for {
			c, id, err := s.accept(lctx, l, &pace)
			if err == nil {
				pace.ok()
				if !s.ready(lctx, l, c, id) {
					continue
				}
			}
			select {
			case ch <- accepted{c, id, err}:
			case <-lctx.Done():
				if c != nil {
					c.Close()
				}
				return
			}
			if err != nil {
				return
			}
		}
	}
	fromCh, toCh := make(chan accepted), make(chan accepted)
	wg.Add(2)
	go acceptInto(s.From, fromCh)
	go acceptInto(s.To, toCh)

	slots := newSlots(s.MaxConns)
	for {
		if !slots.take(ctx) {
			return nil
		}
		var a, b accepted
		for _, side := range []struct {
			ch  <-chan accepted
			dst *accepted
		}{{fromCh, &a}, {toCh, &b}} {
			select {
			case *side.dst = <-side.ch:
			case <-ctx.Done():
			}
			if ctx.Err() != nil || side.dst.err != nil {
				if a.c != nil {
					a.c.Close()
				}
				if ctx.Err() != nil {
					return nil
				}
				return side.dst.err
			}
		}
		if !s.Keep {
			stop()
			s.stopAccepting()
			s.start(kill, a.id, a.c, b.c, true)
			return nil
		}
		ended := s.start(kill, a.id, a.c, b.c, false)
		if slots != nil {
			go func() { <-ended; slots.give() }()
		}
	}
}

// dialLoop pairs two non-listening endpoints: once, or with Keep again
// each time the pairing ends, backing off while either side fails.
func (s *Server) dialLoop(ctx, kill context.Context) error {
	minB, maxB := s.MinBackoff, s.MaxBackoff
	if minB <= 0 {
		minB = 250 * time.Millisecond
	}
	if maxB <= 0 {
		maxB = 30 * time.Second
	}
	backoff := minB
	for attempt := 1; ; attempt++ {
		id := s.ids.Add(1)
		a, b, err := s.openBoth(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !s.Keep || errors.Is(err, ErrExhausted) {
				return err
			}
			s.notify(Event{Kind: Retrying, Err: err, Delay: backoff, Attempt: attempt})
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, maxB)
			continue
		}
		t0 := time.Now()
		ended := s.start(kill, id, a, b, !s.Keep)
		if !s.Keep {
			return nil
		}
		select {
		case <-ended:
		case <-ctx.Done():
			return nil
		}
		if time.Since(t0) > maxB {
			backoff = minB
		} else if time.Since(t0) < time.Second {
			// A peer that accepts and hangs up at once must not make us
			// reconnect in a tight loop.
			s.notify(Event{Kind: Retrying, Delay: backoff, Attempt: attempt})
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, maxB)
		} else {
			backoff = minB
		}
	}
}

// openBoth opens both sides of a pairing of two non-listening endpoints.
// A side that is a PeerOpener is opened second, through OpenFor with the
// other side's conn, so that it sees what it is paired with (a program
// started for the connection gets its addresses); otherwise From is
// opened first.
func (s *Server) openBoth(ctx context.Context, id uint64) (a, b Conn, err error) {
	_, fromPeer := s.From.(PeerOpener)
	_, toPeer := s.To.(PeerOpener)
	if fromPeer && !toPeer {
		if b, err = s.openSide(ctx, id, s.To); err != nil {
			return nil, nil, err
		}
		if b, a, err = s.openFor(ctx, id, s.From, b); err != nil {
			b.Close()
			return nil, nil, err
		}
		return a, b, nil
	}
	if a, err = s.openSide(ctx, id, s.From); err != nil {
		return nil, nil, err
	}
	if a, b, err = s.openFor(ctx, id, s.To, a); err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// slots bounds the pairings open at once; the nil slots is unbounded.
type slots chan struct{}

func newSlots(n int) slots {
	if n <= 0 {
		return nil
	}
	return make(slots, n)
}

// take waits for a free slot; false means ctx ended first.
func (s slots) take(ctx context.Context) bool {
	if s == nil {
		return ctx.Err() == nil
	}
	select {
	case s <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s slots) give() {
	if s != nil {
		<-s
	}
}

// ErrExhausted is returned (wrapped) by an endpoint that can be opened only
// once, such as stdio, when asked for another conn; a server with Keep
// stops instead of retrying.
var ErrExhausted = errors.New("endpoint can be used only once")

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// temporary reports accept failures that pass: a full descriptor table or
// a shortage of kernel memory.
func temporary(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func remoteAddr(c Conn) net.Addr {
	if rc, ok := c.(interface{ RemoteAddr() net.Addr }); ok {
		return rc.RemoteAddr()
	}
	return nil
}

// PeerName names the far end of c for messages: its remote address, or
// what c is ("stdio") when it has none.
func PeerName(c Conn) string {
	if a := remoteAddr(c); a != nil {
		return a.String()
	}
	if s, ok := c.(interface{ String() string }); ok {
		return s.String()
	}
	return "?"
}
