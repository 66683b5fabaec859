package relay_test

import (
	"context"
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
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				// Wrapped so Go's own splice (and its pooled pipes, freed
				// only by the garbage collector) stays out of the count.
				io.Copy(struct{ io.Writer }{c}, struct{ io.Reader }{c})
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	t.Cleanup(func() { echo.Close(); wg.Wait() })
	return echo.Addr().String()
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
