package ui

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gnc/relay"
)

// fakeCounts is a source the test moves by hand.
type fakeCounts struct {
	sent, received, open, pairings atomic.Int64
	relay                          bool
}

func (f *fakeCounts) Sent() int64     { return f.sent.Load() }
func (f *fakeCounts) Received() int64 { return f.received.Load() }

type fakeRelay struct{ *fakeCounts }

func (f fakeRelay) Open() int64     { return f.open.Load() }
func (f fakeRelay) Pairings() int64 { return f.pairings.Load() }

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// frames records each write.
type frames struct {
	mu     sync.Mutex
	writes []string
	wrote  chan struct{}
}

func newFrames() *frames { return &frames{wrote: make(chan struct{}, 100)} }

func (f *frames) Write(p []byte) (int, error) {
	f.mu.Lock()
	f.writes = append(f.writes, string(p))
	f.mu.Unlock()
	f.wrote <- struct{}{}
	return len(p), nil
}

func (f *frames) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.writes...)
}

func newTestProgress(src ProgressSource, opt ProgressOptions) (*Progress, *fakeClock, *frames) {
	clk := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	opt.now = clk.now
	out := newFrames()
	return NewProgress(out, src, opt), clk, out
}

func TestProgressLines(t *testing.T) {
	src := &fakeCounts{}
	p, clk, out := newTestProgress(src, ProgressOptions{Size: 1000})
	want := map[int]string{
		5:  "\r0:00  sent 500 B  1.0 kB/s  50%  ETA 0:01  received 50 B  100.0 B/s\x1b[K",
		10: "\r0:01  sent 1.0 kB  1.0 kB/s  100%  ETA 0:00  received 100 B  100.0 B/s\x1b[K",
	}
	for i := 1; i <= 10; i++ {
		clk.add(100 * time.Millisecond)
		src.sent.Store(int64(i) * 100)
		src.received.Store(int64(i) * 10)
		p.tick()
		w := out.all()
		if len(w) != i {
			t.Fatalf("tick %d: %d writes", i, len(w))
		}
		if line, ok := want[i]; ok && w[i-1] != line {
			t.Errorf("tick %d:\n got %q\nwant %q", i, w[i-1], line)
		}
	}
	// Nothing moves for 1.5s: the current rate falls to zero, the
	// ETA's window still remembers.
	src.sent.Store(900)
	src.received.Store(100)
	for range 15 {
		clk.add(100 * time.Millisecond)
		p.tick()
	}
	w := out.all()
	if got := w[len(w)-1]; got != "\r0:02  sent 900 B  0.0 B/s  90%  ETA 0:01  received 100 B  0.0 B/s\x1b[K" {
		t.Errorf("stalled: %q", got)
	}
	p.Stop()
	w = out.all()
	if got := w[len(w)-1]; got != "\r\x1b[Ksent 900 bytes, received 100 bytes in 2.500s (400.0 B/s), 90% of 1000\n" {
		t.Errorf("final: %q", got)
	}
	p.Stop()
	if len(out.all()) != len(w) {
		t.Error("a second Stop wrote again")
	}
}

// TestProgressCap: ticks twice as often as allowed redraw at most 10
// times in any second.
func TestProgressCap(t *testing.T) {
	src := &fakeCounts{}
	p, clk, out := newTestProgress(src, ProgressOptions{})
	var at []time.Time
	for range 80 {
		clk.add(25 * time.Millisecond)
		n := len(out.all())
		p.tick()
		if len(out.all()) > n {
			at = append(at, clk.now())
		}
	}
	if len(at) < 19 || len(at) > 21 {
		t.Errorf("%d redraws in 2s", len(at))
	}
	for i := 10; i < len(at); i++ {
		if at[i].Sub(at[i-10]) < time.Second {
			t.Fatalf("11 redraws within %v", at[i].Sub(at[i-10]))
		}
	}
}

// TestProgressGoroutine drives the meter through its ticker: each tick
// redraws, Stop ends the goroutine and leaves one final line, and the
// output as a whole leaves no partial line.
func TestProgressGoroutine(t *testing.T) {
	src := &fakeCounts{}
	tick := make(chan time.Time)
	clk := &fakeClock{t: time.Unix(0, 0)}
	out := newFrames()
	p := NewProgress(out, src, ProgressOptions{Size: 10, now: clk.now, tick: tick})
	p.Start()
	for i := 1; i <= 3; i++ {
		clk.add(time.Second)
		src.sent.Store(int64(i) * 3)
		tick <- clk.now()
		<-out.wrote
	}
	p.Stop()
	<-out.wrote
	select {
	case tick <- clk.now():
		t.Fatal("the ticker is still read after Stop")
	default:
	}
	all := strings.Join(out.all(), "")
	last := all[strings.LastIndexByte(all, '\r')+1:]
	if last != "\x1b[Ksent 9 bytes, received 0 bytes in 3.000s (3.0 B/s), 90% of 10\n" {
		t.Errorf("after the last CR: %q", last)
	}
	if n := strings.Count(all, "\n"); n != 1 {
		t.Errorf("%d lines, want the final one only", n)
	}
	if !strings.Contains(all, "90%  ETA 0:01") {
		t.Errorf("no percent: %q", all)
	}
}

func TestProgressRelay(t *testing.T) {
	src := &fakeCounts{}
	p, clk, out := newTestProgress(fakeRelay{src}, ProgressOptions{})
	src.open.Store(3)
	src.pairings.Store(4)
	src.sent.Store(2500)
	src.received.Store(1200000)
	clk.add(2 * time.Second)
	p.tick()
	want := "\r0:02  3 open  2.0 pairings/s  > 2.5 kB  1.2 kB/s  < 1.2 MB  600.0 kB/s\x1b[K"
	if got := out.all()[0]; got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	p.Stop()
	if got := out.all()[1]; got != "\r\x1b[K4 pairings, sent 2500 bytes, received 1200000 bytes in 2.000s (601.2 kB/s)\n" {
		t.Errorf("final: %q", got)
	}
}

func TestProgressSizeReceivedAndWidth(t *testing.T) {
	src := &fakeCounts{}
	p, clk, out := newTestProgress(src, ProgressOptions{Size: 4000, SizeReceived: true, Width: func() int { return 40 }})
	src.received.Store(1000)
	clk.add(time.Second)
	p.tick()
	got := out.all()[0]
	if want := "\r0:01  sent 0 B  0.0 B/s\x1b[K"; got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	src = &fakeCounts{}
	p, clk, out = newTestProgress(src, ProgressOptions{Size: 4000, SizeReceived: true})
	src.received.Store(1000)
	clk.add(time.Second)
	p.tick()
	if got := out.all()[0]; !strings.HasSuffix(got, "received 1.0 kB  1.0 kB/s  25%  ETA 0:03\x1b[K") {
		t.Errorf("received with a size: %q", got)
	}
}

// TestProgressWrite: a message goes above the status line, which is
// cleared first.
func TestProgressWrite(t *testing.T) {
	src := &fakeCounts{}
	p, clk, out := newTestProgress(src, ProgressOptions{})
	p.Write([]byte("gnc: before\n"))
	clk.add(time.Second)
	p.tick()
	p.Write([]byte("gnc: while drawn\n"))
	w := out.all()
	if w[0] != "gnc: before\n" || w[2] != "\r\x1b[Kgnc: while drawn\n" {
		t.Errorf("writes %q", w)
	}
	p.Stop()
	if got := out.all()[3]; strings.HasPrefix(got, "\r") {
		t.Errorf("final after a message: %q (nothing to clear)", got)
	}
}

func TestProgressMode(t *testing.T) {
	for _, c := range []struct {
		in        string
		want      ProgressMode
		tty, pipe bool
	}{
		{"", ProgressAuto, true, false},
		{"auto", ProgressAuto, true, false},
		{"always", ProgressAlways, true, true},
		{"never", ProgressNever, false, false},
	} {
		m, err := ParseProgressMode(c.in)
		if err != nil || m != c.want || m.Show(true) != c.tty || m.Show(false) != c.pipe {
			t.Errorf("%q: %v, %v; shows on a terminal %v, on a pipe %v", c.in, m, err, m.Show(true), m.Show(false))
		}
	}
	if _, err := ParseProgressMode("sometimes"); err == nil {
		t.Error("a bad mode was accepted")
	} else if _, ok := err.(*UsageError); !ok {
		t.Errorf("a bad mode is %T, want a usage error", err)
	}
}

func TestCountersSource(t *testing.T) {
	var c relay.Counters
	c.Add(relay.Forward, 5)
	c.Add(relay.Backward, 7)
	s := CountersSource(&c)
	if s.Sent() != 5 || s.Received() != 7 {
		t.Errorf("%d, %d", s.Sent(), s.Received())
	}
	var buf bytes.Buffer
	p := NewProgress(&buf, s, ProgressOptions{})
	p.Stop()
	if !strings.HasPrefix(buf.String(), "sent 5 bytes, received 7 bytes in ") {
		t.Errorf("final: %q", buf.String())
	}
}
