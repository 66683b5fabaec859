package relay_test

import (
	"context"
	"gnc/internal/testnet"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"gnc/relay"
)

// ownConn is a socket the server owns, as gnc's own endpoints return them.
type ownConn struct{ *net.TCPConn }

func (ownConn) OwnSocket() bool { return true }

// listenEP is a listening endpoint on 127.0.0.1, port chosen by the kernel.
type listenEP struct{ l *net.TCPListener }

func newListenEP(t testing.TB) *listenEP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &listenEP{l.(*net.TCPListener)}
}

func (e *listenEP) Open(ctx context.Context) (relay.Conn, error) {
	stop := context.AfterFunc(ctx, func() { e.l.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := e.l.AcceptTCP()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return ownConn{c}, nil
}
func (e *listenEP) Close() error   { return e.l.Close() }
func (e *listenEP) String() string { return "listen" }
func (e *listenEP) Addr() net.Addr { return e.l.Addr() }

// dialEP dials addr for every pairing.
type dialEP struct{ addr string }

func (e dialEP) Open(ctx context.Context) (relay.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return nil, err
	}
	return ownConn{c.(*net.TCPConn)}, nil
}
func (e dialEP) Close() error   { return nil }
func (e dialEP) String() string { return e.addr }

// echoServer echoes every connection until the test ends.
func echoServer(t testing.TB) string {
	t.Helper()
	return testnet.ServeEach(t, func(c *net.TCPConn) {
		// Wrapped so Go's own splice (and its pooled pipes, freed only by
		// the garbage collector) stays out of the count.
		io.Copy(struct{ io.Writer }{c}, struct{ io.Reader }{c})
		c.CloseWrite()
	})
}

// TestServerNoLeaks runs a port-forwarding Server in this process, opens
// and closes 1,000 connections through it, and checks that goroutines and
// descriptors come back to their starting counts.
func TestServerNoLeaks(t *testing.T) {
	echo := echoServer(t)
	relay.DrainPipePool()
	g0, fd0 := runtime.NumGoroutine(), relay.OpenFDs(t)

	from := newListenEP(t)
	s := &relay.Server{From: from, To: dialEP{echo}}
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(runCtx) }()

	addr := from.Addr().String()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			if i%2 == 0 {
				c.Write([]byte("ping"))
				c.(*net.TCPConn).CloseWrite()
				if b, _ := io.ReadAll(c); string(b) != "ping" {
					t.Errorf("echo %q", b)
				}
			}
		}()
	}
	wg.Wait()
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	relay.DrainPipePool()
	deadline := time.Now().Add(5 * time.Second)
	for (runtime.NumGoroutine() > g0 || relay.OpenFDs(t) > fd0) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling counts, bounded
	}
	if g, fd := runtime.NumGoroutine(), relay.OpenFDs(t); g > g0 || fd > fd0 {
		ents, _ := os.ReadDir("/proc/self/fd")
		var names []string
		for _, e := range ents {
			l, _ := os.Readlink("/proc/self/fd/" + e.Name())
			names = append(names, l)
		}
		t.Fatalf("goroutines %d -> %d, descriptors %d -> %d: %v", g0, g, fd0, fd, names)
	}
}

// countTap counts the bytes and ends of file a pairing's tap sees.
type countTap struct {
	mu  sync.Mutex
	n   [2]int64
	eof [2]bool
}

func (c *countTap) Chunk(d relay.Dir, p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[d] += int64(len(p))
}

func (c *countTap) EOF(d relay.Dir) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eof[d] = true
}

// TestServerStatsAndTaps: a Server's Stats count bytes live over all its
// pairings, and the pairings open and opened; every pairing gets a tap
// from each of Taps that makes one.
func TestServerStatsAndTaps(t *testing.T) {
	echo := echoServer(t)
	from := newListenEP(t)
	var mu sync.Mutex
	taps := map[uint64]*countTap{}
	s := &relay.Server{From: from, To: dialEP{echo}, Taps: []func(uint64, relay.Conn, relay.Conn) relay.Tap{
		func(uint64, relay.Conn, relay.Conn) relay.Tap { return nil },
		func(id uint64, _, _ relay.Conn) relay.Tap {
			mu.Lock()
			defer mu.Unlock()
			taps[id] = &countTap{}
			return taps[id]
		},
	}}
	closed := make(chan relay.Result, 16)
	s.Notify = func(e relay.Event) {
		if e.Kind == relay.Closed {
			closed <- e.Result
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()

	const clients, size = 4, 1000
	for i := range clients {
		c, err := net.Dial("tcp", from.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(make([]byte, size))
		if _, err := io.ReadFull(c, make([]byte, size)); err != nil {
			t.Fatal(err)
		}
		// The echo came back through the open pairing: it is counted, as
		// soon as the forward copy has noted what it just delivered.
		deadline := time.Now().Add(5 * time.Second)
		for s.Stats().Bytes[relay.Forward] < int64(i+1)*size && time.Now().Before(deadline) {
			runtime.Gosched()
		}
		st := s.Stats()
		if st.Open != 1 || st.Opened != int64(i+1) || st.Bytes[relay.Forward] < int64(i+1)*size {
			t.Errorf("client %d: stats %+v while its pairing is open", i, st)
		}
		c.(*net.TCPConn).CloseWrite()
		io.ReadAll(c)
		c.Close()
		if r := <-closed; r.Err != nil || r.Bytes != [2]int64{size, size} {
			t.Errorf("client %d: result %+v", i, r)
		}
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Open != 0 || st.Opened != clients || st.Bytes != [2]int64{clients * size, clients * size} {
		t.Errorf("stats %+v at the end", st)
	}
	if len(taps) != clients {
		t.Fatalf("%d taps made, want %d", len(taps), clients)
	}
	for id, tap := range taps {
		if tap.n != [2]int64{size, size} || tap.eof != [2]bool{true, true} {
			t.Errorf("pairing %d: tap saw %v bytes, eof %v", id, tap.n, tap.eof)
		}
	}
}
