package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// abortableConn is a conn that records the abort function Pair binds.
type abortableConn struct {
	c     net.Conn
	binds atomic.Int32
	abort atomic.Pointer[func(error)]
	early atomic.Bool // read before BindAbort
	bound chan struct{}
}

func (a *abortableConn) Read(p []byte) (int, error) {
	if a.binds.Load() == 0 {
		a.early.Store(true)
	}
	return a.c.Read(p)
}
func (a *abortableConn) Write(p []byte) (int, error) { return a.c.Write(p) }
func (a *abortableConn) Close() error                { return a.c.Close() }
func (a *abortableConn) BindAbort(f func(error)) {
	a.abort.Store(&f)
	if a.binds.Add(1) == 1 {
		close(a.bound)
	}
}

// TestPairAbortable: Pair binds an Abortable conn's abort once, before
// copying, and calling it ends the pairing at once, with Reason "dropped"
// and the error given, even while both directions are blocked.
func TestPairAbortable(t *testing.T) {
	a1, a2 := net.Pipe()
	b1, b2 := net.Pipe()
	defer a2.Close()
	defer b2.Close()
	a := &abortableConn{c: a1, bound: make(chan struct{})}
	done := make(chan Result, 1)
	go func() { done <- Pair(context.Background(), a, b1, Options{}) }()
	// Nobody writes to a2 or b2: both directions stay blocked until the
	// abort. Wait for the bind, which comes before any copy.
	select {
	case <-a.bound:
	case <-time.After(5 * time.Second):
		t.Fatal("Pair never called BindAbort")
	}
	errDropped := errors.New("took no input")
	(*a.abort.Load())(errDropped)
	select {
	case r := <-done:
		if r.Reason != "dropped" || !errors.Is(r.Err, errDropped) {
			t.Errorf("Result: reason %q, err %v; want \"dropped\" and the abort's error", r.Reason, r.Err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Pair did not return after the abort")
	}
	if n := a.binds.Load(); n != 1 || a.early.Load() {
		t.Errorf("BindAbort called %d times, early read %v; want once, before copying", n, a.early.Load())
	}
	(*a.abort.Load())(errDropped) // after Pair has returned: nothing happens
	for _, c := range []net.Conn{a2, b2} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("peer of a closed conn read %v, want EOF", err)
		}
	}
}
