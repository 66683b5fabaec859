package relay_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gnc/relay"
)

// runServer runs s until the test ends or s returns; the returned channel
// gives Run's result.
func runServer(t *testing.T, s *relay.Server) (stop func(), ran <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		ch <- s.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	return cancel, ch
}

func waitRun(t *testing.T, ran <-chan error) error {
	t.Helper()
	select {
	case err := <-ran:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func dialT(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c.(*net.TCPConn)
}

// exchange sends a's message to b and b's to a, half-closing each, and
// checks both arrive whole.
func exchange(t *testing.T, a, b *net.TCPConn) {
	t.Helper()
	var wg sync.WaitGroup
	for _, c := range []struct {
		src, dst *net.TCPConn
		msg      string
	}{{a, b, "from a"}, {b, a, "from b"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.src.Write([]byte(c.msg))
			c.src.CloseWrite()
		}()
		got, err := io.ReadAll(c.dst)
		if err != nil || string(got) != c.msg {
			t.Errorf("got %q, %v; want %q", got, err, c.msg)
		}
	}
	wg.Wait()
}

// TestServerRendezvous: two listeners pair their first clients; without
// Keep the server then stops listening and returns when the pairing ends.
func TestServerRendezvous(t *testing.T) {
	from, to := newListenEP(t), newListenEP(t)
	_, ran := runServer(t, &relay.Server{From: from, To: to})
	b := dialT(t, to.Addr().String()) // arrival order does not matter
	a := dialT(t, from.Addr().String())
	exchange(t, a, b)
	if err := waitRun(t, ran); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", from.Addr().String()); err == nil {
		c.Close()
		t.Fatal("still listening after the one rendezvous")
	}
}

// TestServerRendezvousKeep: with Keep, every later pair is joined too, in
// arrival order.
func TestServerRendezvousKeep(t *testing.T) {
	from, to := newListenEP(t), newListenEP(t)
	stop, ran := runServer(t, &relay.Server{From: from, To: to, Keep: true})
	for range 3 {
		a := dialT(t, from.Addr().String())
		b := dialT(t, to.Addr().String())
		exchange(t, a, b)
	}
	stop()
	if err := waitRun(t, ran); err != nil {
		t.Fatal(err)
	}
}

// countingListener accepts for a test's dialing endpoints and counts.
type countingListener struct {
	l     net.Listener
	conns chan *net.TCPConn
}

func newCountingListener(t *testing.T) *countingListener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{l: l, conns: make(chan *net.TCPConn, 16)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(cl.conns)
				return
			}
			cl.conns <- c.(*net.TCPConn)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range cl.conns {
			c.Close()
		}
	})
	return cl
}

func (cl *countingListener) next(t *testing.T) *net.TCPConn {
	t.Helper()
	select {
	case c := <-cl.conns:
		c.SetDeadline(time.Now().Add(20 * time.Second))
		return c
	case <-time.After(20 * time.Second):
		t.Fatal("no connection came")
		return nil
	}
}

// TestServerDialLoop: two dialing endpoints make one pairing; with Keep a
// new one each time the last ends, spaced by the back-off.
func TestServerDialLoop(t *testing.T) {
	x, y := newCountingListener(t), newCountingListener(t)
	_, ran := runServer(t, &relay.Server{From: dialEP{x.l.Addr().String()}, To: dialEP{y.l.Addr().String()}})
	exchange(t, x.next(t), y.next(t))
	if err := waitRun(t, ran); err != nil {
		t.Fatal(err)
	}

	stop, ran := runServer(t, &relay.Server{From: dialEP{x.l.Addr().String()}, To: dialEP{y.l.Addr().String()}, Keep: true, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	for range 3 {
		exchange(t, x.next(t), y.next(t))
	}
	stop()
	if err := waitRun(t, ran); err != nil {
		t.Fatal(err)
	}
}

// onceEP is a dialing endpoint that can be opened once.
type onceEP struct {
	dialEP
	used atomic.Bool
}

func (e *onceEP) SingleUse() bool { return true }

func (e *onceEP) Open(ctx context.Context) (relay.Conn, error) {
	if e.used.Swap(true) {
		return nil, relay.ErrExhausted
	}
	return e.dialEP.Open(ctx)
}

// TestServerOnce: Once, or a To that can be opened only once, makes a
// listening From serve one pairing and stop listening.
func TestServerOnce(t *testing.T) {
	echo := echoServer(t)
	for _, s := range []*relay.Server{
		{From: newListenEP(t), To: dialEP{echo}, Once: true},
		{From: newListenEP(t), To: &onceEP{dialEP: dialEP{echo}}},
	} {
		if s.Many() {
			t.Fatal("Many() for a server that makes one pairing")
		}
		addr := s.From.(relay.Listener).Addr().String()
		_, ran := runServer(t, s)
		c := dialT(t, addr)
		c.Write([]byte("once"))
		c.CloseWrite()
		if got, _ := io.ReadAll(c); string(got) != "once" {
			t.Fatalf("echo %q", got)
		}
		if err := waitRun(t, ran); err != nil {
			t.Fatal(err)
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Fatal("still listening after its one pairing")
		}
	}
}

// shakeConn is a conn with a toy handshake: the client must send 'H'.
type shakeConn struct{ ownConn }

func (c shakeConn) HandshakeContext(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return err
	}
	c.SetReadDeadline(time.Time{})
	if b[0] != 'H' {
		return errors.New("bad handshake")
	}
	return nil
}

type shakeListenEP struct{ *listenEP }

func (e shakeListenEP) Open(ctx context.Context) (relay.Conn, error) {
	c, err := e.listenEP.Open(ctx)
	if err != nil {
		return nil, err
	}
	return shakeConn{c.(ownConn)}, nil
}

// TestServerHandshakes: a handshake runs before the other side is opened;
// a failed one is reported and the server goes on; a stalled one holds up
// neither a single-client listener nor a many-client one.
func TestServerHandshakes(t *testing.T) {
	echo := echoServer(t)
	for _, once := range []bool{true, false} {
		from := shakeListenEP{newListenEP(t)}
		var mu sync.Mutex
		var failed, accepted int
		s := &relay.Server{From: from, To: dialEP{echo}, Once: once, Notify: func(e relay.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Kind {
			case relay.HandshakeFailed:
				failed++
			case relay.Accepted:
				accepted++
			}
		}}
		_, ran := runServer(t, s)
		addr := from.Addr().String()
		stalled := dialT(t, addr) // says nothing
		bad := dialT(t, addr)
		bad.Write([]byte("X"))
		if n, err := bad.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Fatalf("a failed handshake read %d, %v", n, err)
		}
		good := dialT(t, addr)
		good.Write([]byte("Hping"))
		good.CloseWrite()
		if got, _ := io.ReadAll(good); string(got) != "ping" {
			t.Fatalf("once %v: echo %q while another client stalled", once, got)
		}
		if once {
			if err := waitRun(t, ran); err != nil {
				t.Fatal(err)
			}
			if n, err := stalled.Read(make([]byte, 1)); n != 0 || err == nil {
				t.Fatal("the stalled client was left open after the one pairing")
			}
		}
		mu.Lock()
		if failed != 1 || accepted != 1 {
			t.Errorf("once %v: %d handshake failures and %d accepts reported, want 1 and 1", once, failed, accepted)
		}
		mu.Unlock()
	}
}

// lineOpener dials the address a client writes on its first line, and
// hands over what the client sent after it.
type lineOpener struct{}

func (lineOpener) Open(context.Context) (relay.Conn, error) {
	return nil, errors.New("only OpenFor")
}
func (lineOpener) Close() error   { return nil }
func (lineOpener) String() string { return "line" }

type prefixed struct {
	ownConn
	prefix []byte
}

func (p *prefixed) TakePrefix() []byte { b := p.prefix; p.prefix = nil; return b }

func (lineOpener) OpenFor(ctx context.Context, peer relay.Conn) (relay.Conn, relay.Conn, error) {
	c := peer.(ownConn)
	br := bufio.NewReader(c)
	addr, err := br.ReadString('\n')
	if err != nil {
		return peer, nil, err
	}
	o, err := dialEP{addr[:len(addr)-1]}.Open(ctx)
	if err != nil {
		return peer, nil, err
	}
	rest := make([]byte, br.Buffered())
	br.Read(rest)
	return &prefixed{ownConn: c, prefix: rest}, o, nil
}

// TestServerPeerOpener: an endpoint that reads what the client asks for
// opens through OpenFor, and the bytes it read past the request reach the
// other side first.
func TestServerPeerOpener(t *testing.T) {
	echo := echoServer(t)
	from := newListenEP(t)
	_, _ = runServer(t, &relay.Server{From: from, To: lineOpener{}})
	c := dialT(t, from.Addr().String())
	c.Write([]byte(echo + "\nread ahead, then more"))
	c.CloseWrite()
	if got, _ := io.ReadAll(c); string(got) != "read ahead, then more" {
		t.Fatalf("echo %q", got)
	}
}
