package relay

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection. Half-close
// can only be tested on real sockets, not net.Pipe.
func tcpPair(t testing.TB) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := l.Accept()
		ch <- res{c, err}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { c.Close(); r.c.Close() })
	return c.(*net.TCPConn), r.c.(*net.TCPConn)
}

// ownTCP is a socket the test's relay owns, as conn.TCPConn says for
// gnc's own: a plain *net.TCPConn is not known to be ours.
type ownTCP struct{ *net.TCPConn }

func (ownTCP) OwnSocket() bool { return true }

// relayed sets up client <-> [a  Pair  b] <-> server over two TCP
// connections, a and b owned by the relay, and returns the outer ends and
// a channel with Pair's result.
func relayed(t testing.TB, opt Options) (client, server *net.TCPConn, done <-chan Result) {
	t.Helper()
	client, a := tcpPair(t)
	b, server := tcpPair(t)
	ch := make(chan Result, 1)
	go func() { ch <- Pair(context.Background(), ownTCP{a}, ownTCP{b}, opt) }()
	return client, server, ch
}

func waitResult(t testing.TB, ch <-chan Result) Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("pairing did not end within 20s")
		return Result{}
	}
}

// TestHalfClose: the client's half-close reaches the server as end of
// file, the server still answers, and the pairing ends when both
// directions have.
func TestHalfClose(t *testing.T) {
	for _, tapped := range []bool{false, true} {
		var opt Options
		tap := &hashTap{}
		if tapped {
			opt.Taps = []Tap{tap}
		}
		client, server, done := relayed(t, opt)
		client.Write([]byte("request"))
		client.CloseWrite()
		server.SetDeadline(time.Now().Add(10 * time.Second))
		req, err := io.ReadAll(server)
		if err != nil || string(req) != "request" {
			t.Fatalf("server read %q, %v", req, err)
		}
		server.Write([]byte("the reply"))
		server.CloseWrite()
		client.SetDeadline(time.Now().Add(10 * time.Second))
		reply, err := io.ReadAll(client)
		if err != nil || string(reply) != "the reply" {
			t.Fatalf("client read %q, %v", reply, err)
		}
		r := waitResult(t, done)
		if r.Err != nil || r.Bytes != [2]int64{7, 9} || r.Reason != "eof" {
			t.Fatalf("tapped=%v: result %+v", tapped, r)
		}
		if tapped {
			if tap.n != [2]int64{7, 9} || !tap.eof[0] || !tap.eof[1] {
				t.Fatalf("tap saw %v bytes, eof %v", tap.n, tap.eof)
			}
		}
	}
}

// hashTap hashes each direction, to check a tap sees every byte in order.
type hashTap struct {
	mu  sync.Mutex
	h   [2][32]byte
	hs  [2]interface{ Sum([]byte) []byte }
	w   [2]io.Writer
	n   [2]int64
	eof [2]bool
}

func (h *hashTap) Chunk(d Dir, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.w[d] == nil {
		s := sha256.New()
		h.w[d], h.hs[d] = s, s
	}
	h.w[d].Write(p)
	h.n[d] += int64(len(p))
}

func (h *hashTap) EOF(d Dir) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.eof[d] = true
}

func (h *hashTap) sum(d Dir) [32]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	var s [32]byte
	if h.hs[d] != nil {
		copy(s[:], h.hs[d].Sum(nil))
	} else {
		copy(s[:], sha256.New().Sum(nil))
	}
	return s
}

// TestIntegrity moves 64 MiB each way at once, through the splice path and
// through a tap, and checks every byte with SHA-256.
func TestIntegrity(t *testing.T) {
	for _, tapped := range []bool{false, true} {
		var opt Options
		var tap *hashTap
		if tapped {
			tap = &hashTap{}
			opt.Taps = []Tap{tap}
		}
		client, server, done := relayed(t, opt)
		const size = 64 << 20
		var wg sync.WaitGroup
		var sums [2][32]byte // received by server, by client
		var sent [2][32]byte
		for i, ends := range [][2]*net.TCPConn{{client, server}, {server, client}} {
			wg.Add(2)
			go func() {
				defer wg.Done()
				h := sha256.New()
				src := io.LimitReader(rand.NewChaCha8([32]byte{byte(i)}), size)
				io.Copy(io.MultiWriter(ends[0], h), src)
				ends[0].CloseWrite()
				copy(sent[i][:], h.Sum(nil))
			}()
			go func() {
				defer wg.Done()
				h := sha256.New()
				io.Copy(h, ends[1])
				copy(sums[i][:], h.Sum(nil))
			}()
		}
		wg.Wait()
		r := waitResult(t, done)
		if r.Err != nil || r.Bytes != [2]int64{size, size} {
			t.Fatalf("tapped=%v: result %+v", tapped, r)
		}
		for i := range sums {
			if sums[i] != sent[i] {
				t.Errorf("tapped=%v: direction %d corrupted", tapped, i)
			}
			if tapped && tap.sum(Dir(i)) != sent[i] {
				t.Errorf("tap saw direction %d wrong", i)
			}
		}
	}
}

// halves is a conn made of a separate reader and writer, as gnc's stdio
// is; a nil r never sends.
type halves struct {
	r io.Reader
	w io.WriteCloser
}

func (h halves) Read(p []byte) (int, error)  { return 0, io.EOF }
func (h halves) Write(p []byte) (int, error) { return h.w.Write(p) }
func (h halves) Close() error                { return h.w.Close() }
func (h halves) ReadHalf() io.Reader         { return h.r }
func (h halves) WriteHalf() io.Writer        { return h.w }

// TestIdle: a pairing idle both ways for Idle ends with ErrIdle, and
// traffic in either direction keeps it alive.
func TestIdle(t *testing.T) {
	client, server, done := relayed(t, Options{Idle: 300 * time.Millisecond})
	var last time.Time
	// Keep it busy for a while in alternating directions.
	for i := range 6 {
		from, to := client, server
		if i%2 == 1 {
			from, to = server, client
		}
		last = time.Now()
		from.Write([]byte("."))
		to.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(to, make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // traffic spacing, below the idle limit
	}
	r := waitResult(t, done)
	if idle := time.Since(last); !errors.Is(r.Err, ErrIdle) || idle < 300*time.Millisecond || r.Bytes != [2]int64{3, 3} {
		t.Fatalf("result %+v, %v after the last byte", r, idle)
	}
}

// TestLinger: with a negative Linger the pairing ends as soon as Forward
// does; with a positive one, Backward may go on that long.
func TestLinger(t *testing.T) {
	client, _, done := relayed(t, Options{Linger: -1})
	client.CloseWrite()
	if r := waitResult(t, done); r.Err != nil {
		t.Fatalf("result %+v", r)
	}
	client, server, done := relayed(t, Options{Linger: 200 * time.Millisecond})
	client.CloseWrite()
	server.Write([]byte("still in time"))
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(client, make([]byte, 13)); err != nil {
		t.Fatal(err)
	}
	if r := waitResult(t, done); r.Err != nil || r.Reason != "linger expired" {
		t.Fatalf("result %+v", r)
	}
}

// TestCancel: cancelling the context ends the pairing without an error.
func TestCancel(t *testing.T) {
	client, a := tcpPair(t)
	b, _ := tcpPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	go func() { done <- Pair(ctx, ownTCP{a}, ownTCP{b}, Options{}) }()
	cancel()
	if r := waitResult(t, done); r.Err != nil || r.Reason != "cancelled" {
		t.Fatalf("result %+v", r)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client read %v, want end of file", err)
	}
}

// TestNoLeaks opens and closes many pairings, idle and busy, and checks
// that goroutines and descriptors come back to where they started.
func TestNoLeaks(t *testing.T) {
	drainPipePool()
	g0, fd0 := runtime.NumGoroutine(), openFDs(t)
	for i := range 200 {
		client, a := tcpPair(t)
		b, server := tcpPair(t)
		done := make(chan Result, 1)
		go func() { done <- Pair(context.Background(), ownTCP{a}, ownTCP{b}, Options{}) }()
		if i%2 == 0 {
			client.Write([]byte("hello"))
			io.ReadFull(server, make([]byte, 5))
		}
		client.Close()
		server.Close()
		waitResult(t, done)
	}
	drainPipePool()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > g0 && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // polling a count, bounded
	}
	if g := runtime.NumGoroutine(); g > g0 {
		t.Errorf("goroutines: %d before, %d after", g0, g)
	}
	if fd := openFDs(t); fd != fd0 {
		t.Errorf("descriptors: %d before, %d after", fd0, fd)
	}
}

// openFDs counts this process's descriptors; it skips the test where
// /proc/self/fd does not list them.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestPacer: each failure for lack of resources doubles the pause before
// the next accept, up to a second, and an opened pairing ends it.
func TestPacer(t *testing.T) {
	var p pacer
	for _, want := range []time.Duration{5, 10, 20, 40} {
		if d := p.short(); d != want*time.Millisecond {
			t.Fatalf("pause %v, want %v", d, want*time.Millisecond)
		}
	}
	t0 := time.Now()
	if !p.wait(context.Background()) {
		t.Fatal("wait gave up")
	}
	if el := time.Since(t0); el < 30*time.Millisecond {
		t.Errorf("waited %v of a 40ms pause", el)
	}
	for range 20 {
		p.short()
	}
	if p.delay != time.Second {
		t.Errorf("pause grew to %v, want a second at most", p.delay)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if p.wait(ctx) {
		t.Error("wait did not give up on a cancelled context")
	}
	p.ok()
	t0 = time.Now()
	if !p.wait(context.Background()) || time.Since(t0) > 100*time.Millisecond {
		t.Error("a pairing that opened did not end the pause")
	}
}

// TestWait: a pairing quiet for Wait ends normally, not as a failure; with
// Idle also set, the shorter limit decides.
func TestWait(t *testing.T) {
	for _, c := range []struct {
		opt    Options
		err    error
		reason string
	}{
		{Options{Wait: 200 * time.Millisecond}, nil, "idle (-w)"},
		{Options{Wait: 200 * time.Millisecond, Idle: 5 * time.Second}, nil, "idle (-w)"},
		{Options{Wait: 5 * time.Second, Idle: 200 * time.Millisecond}, ErrIdle, "idle timeout"},
		{Options{Wait: 200 * time.Millisecond, Idle: 200 * time.Millisecond}, ErrIdle, "idle timeout"},
	} {
		client, server, done := relayed(t, c.opt)
		last := time.Now() // no later than the relay's last activity
		client.Write([]byte("ping"))
		server.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(server, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}
		r := waitResult(t, done)
		if !errors.Is(r.Err, c.err) || (c.err == nil && r.Err != nil) || r.Reason != c.reason || r.Bytes != [2]int64{4, 0} {
			t.Errorf("Idle %v, Wait %v: result %+v, want error %v and reason %q", c.opt.Idle, c.opt.Wait, r, c.err, c.reason)
		}
		if quiet := time.Since(last); quiet < 200*time.Millisecond {
			t.Errorf("Idle %v, Wait %v: ended %v after the last byte", c.opt.Idle, c.opt.Wait, quiet)
		}
	}
}

// TestLateCancel: a cancellation whose callback runs once both
// directions have ended (context.AfterFunc runs it in a goroutine of its
// own, which Pair's stop cannot recall) does not relabel the pairing
// "cancelled", nor close its conns under Pair.
func TestLateCancel(t *testing.T) {
	_, a := tcpPair(t)
	b, _ := tcpPair(t)
	p := &pairing{conns: [2]Conn{ownTCP{a}, ownTCP{b}}}
	p.res.Reason = "eof"
	p.finish(Forward, 1, nil, false)
	p.finish(Backward, 2, nil, false)
	p.abort(reasonCancelled, nil)
	if p.res.Reason != "eof" || p.res.Err != nil || p.aborted {
		t.Fatalf("result %+v, aborted %v; want a clean eof", p.res, p.aborted)
	}
}

// sharedTCP is a socket the relay does not own (as a socket on stdin or
// stdout may be shared with other processes): its Close only unblocks,
// as stdio's does, and leaves the descriptor open.
type sharedTCP struct{ *net.TCPConn }

func (s sharedTCP) Close() error { return s.SetDeadline(time.Unix(1, 0)) }

// TestSharedSocketShutDown: a socket that does not say it is our own is
// shut down when the direction towards it ends, even last, since closing
// it may not send a FIN: its peer sees end of file.
func TestSharedSocketShutDown(t *testing.T) {
	client, a := tcpPair(t)
	b, server := tcpPair(t)
	done := make(chan Result, 1)
	go func() { done <- Pair(context.Background(), ownTCP{a}, sharedTCP{b}, Options{}) }()
	// Backward ends first, so Forward is the last to end.
	server.Write([]byte("reply"))
	server.CloseWrite()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	if got, err := io.ReadAll(client); err != nil || string(got) != "reply" {
		t.Fatalf("client read %q, %v", got, err)
	}
	client.Write([]byte("request"))
	client.CloseWrite()
	server.SetDeadline(time.Now().Add(5 * time.Second))
	if got, err := io.ReadAll(server); err != nil || string(got) != "request" {
		t.Fatalf("server read %q, %v; want the request and end of file", got, err)
	}
	if r := waitResult(t, done); r.Err != nil {
		t.Fatalf("result %+v", r)
	}
}

// TestCounters: counters move while a pairing runs, on the splice path
// and through a tap alike; a Counters shared by pairings holds their sum;
// Result.Bytes stays exact.
func TestCounters(t *testing.T) {
	var shared Counters
	const size = 3 << 20
	for _, tapped := range []bool{false, true} {
		var own Counters
		before := [2]int64{shared.Load(Forward), shared.Load(Backward)}
		opt := Options{Counters: &shared}
		if tapped {
			opt.Taps = []Tap{&hashTap{}}
		}
		// Each pairing counts into shared; own watches this one alone.
		opt.server = &own
		client, server, done := relayed(t, opt)
		go client.Write(make([]byte, size))
		server.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(server, make([]byte, size)); err != nil {
			t.Fatal(err)
		}
		// The bytes have arrived; the count follows within moments.
		deadline := time.Now().Add(5 * time.Second)
		for own.Load(Forward) < size && time.Now().Before(deadline) {
			runtime.Gosched()
		}
		if n := own.Load(Forward); n != size {
			t.Fatalf("tapped=%v: %d bytes counted while the pairing is open, want %d", tapped, n, size)
		}
		server.Write([]byte("back"))
		server.CloseWrite()
		client.CloseWrite()
		io.ReadAll(client)
		r := waitResult(t, done)
		if r.Bytes != [2]int64{size, 4} || own.Load(Backward) != 4 {
			t.Fatalf("tapped=%v: result %+v, counted %d back", tapped, r, own.Load(Backward))
		}
		if got := [2]int64{shared.Load(Forward) - before[0], shared.Load(Backward) - before[1]}; got != r.Bytes {
			t.Fatalf("tapped=%v: shared counters moved %v, want %v", tapped, got, r.Bytes)
		}
	}
	if shared.Load(Forward) != 2*size || shared.Load(Backward) != 8 {
		t.Errorf("shared counters %d/%d, want the sum of both pairings", shared.Load(Forward), shared.Load(Backward))
	}
}

// TestTaps: every tap sees every chunk, in order, and both ends of file;
// nil taps are skipped.
func TestTaps(t *testing.T) {
	taps := []*hashTap{{}, {}}
	client, server, done := relayed(t, Options{Taps: []Tap{taps[0], nil, taps[1]}})
	payload := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{3}).Read(payload)
	go func() {
		client.Write(payload)
		client.CloseWrite()
	}()
	server.SetDeadline(time.Now().Add(10 * time.Second))
	if got, err := io.ReadAll(server); err != nil || sha256.Sum256(got) != sha256.Sum256(payload) {
		t.Fatalf("server read %d bytes, %v", len(got), err)
	}
	server.Write([]byte("ok"))
	server.CloseWrite()
	io.ReadAll(client)
	waitResult(t, done)
	for i, tap := range taps {
		if tap.sum(Forward) != sha256.Sum256(payload) || tap.n != [2]int64{1 << 20, 2} || tap.eof != [2]bool{true, true} {
			t.Errorf("tap %d saw %v bytes, eof %v", i, tap.n, tap.eof)
		}
	}
}

// waiter is a source without a descriptor that says when it has data:
// every Read must come after a WaitRead that saw data, or the copy would
// hold a buffer while the source sits idle.
type waiter struct {
	data      chan []byte
	ready     []byte
	unwaited  atomic.Int32 // reads not preceded by a WaitRead
	hasWaited bool
}

func (w *waiter) WaitRead() error {
	if w.ready == nil {
		b, ok := <-w.data
		if !ok {
			b = []byte{}
		}
		w.ready = b
	}
	w.hasWaited = true
	return nil
}

func (w *waiter) Read(p []byte) (int, error) {
	if !w.hasWaited {
		w.unwaited.Add(1)
		w.WaitRead()
	}
	w.hasWaited = false
	b := w.ready
	w.ready = nil
	if len(b) == 0 {
		return 0, io.EOF
	}
	return copy(p, b), nil
}

func (w *waiter) Write(p []byte) (int, error) { return len(p), nil }
func (w *waiter) Close() error                { return nil }

// TestReadWaiter: a copy from a ReadWaiter waits through it before it
// borrows a buffer and reads.
func TestReadWaiter(t *testing.T) {
	client, server := tcpPair(t)
	w := &waiter{data: make(chan []byte)}
	done := make(chan Result, 1)
	go func() { done <- Pair(context.Background(), w, ownTCP{server}, Options{}) }()
	go func() {
		for _, s := range []string{"one", "two", "three"} {
			w.data <- []byte(s)
		}
		close(w.data)
	}()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(client)
	client.Close()
	waitResult(t, done)
	if string(got) != "onetwothree" || w.unwaited.Load() != 0 {
		t.Fatalf("got %q, %d reads without a wait first", got, w.unwaited.Load())
	}
}

// growTCP is an owned socket that records the engine's Grow calls.
type growTCP struct {
	ownTCP
	mu    sync.Mutex
	grows []bool
}

func (g *growTCP) Grow(out bool) {
	g.mu.Lock()
	g.grows = append(g.grows, out)
	g.mu.Unlock()
}

// TestGrower: a direction that moves a long stream asks each of its ends
// that is a Grower, once, to grow; a short answer asks nothing.
func TestGrower(t *testing.T) {
	client, a := tcpPair(t)
	b, server := tcpPair(t)
	ga, gb := &growTCP{ownTCP: ownTCP{a}}, &growTCP{ownTCP: ownTCP{b}}
	done := make(chan Result, 1)
	go func() { done <- Pair(context.Background(), ga, gb, Options{}) }()

	const long = growAfter + 1<<20
	go func() {
		client.Write(make([]byte, long))
		client.CloseWrite()
	}()
	if n, err := io.Copy(io.Discard, server); n != long || err != nil {
		t.Fatalf("server got %d bytes (%v), want %d", n, err, long)
	}
	server.Write([]byte("short answer"))
	server.CloseWrite()
	if got, err := io.ReadAll(client); string(got) != "short answer" || err != nil {
		t.Fatalf("client got %q (%v)", got, err)
	}
	waitResult(t, done)
	// Forward, a to b, was long: a grows what it sends, b what it takes.
	if !slices.Equal(ga.grows, []bool{true}) || !slices.Equal(gb.grows, []bool{false}) {
		t.Errorf("grows: a %v, b %v; want a [true], b [false]", ga.grows, gb.grows)
	}
}
