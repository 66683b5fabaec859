package relay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// dgramConn is a connected UDP socket as a Datagram conn, with the most it
// sends at once.
type dgramConn struct {
	*net.UDPConn
	max int
}

func (c dgramConn) MaxDatagram() int { return c.max }

// udpPair returns two UDP sockets on loopback connected to each other.
func udpPair(t testing.TB) (*net.UDPConn, *net.UDPConn) {
	t.Helper()
	a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.DialUDP("udp", nil, a.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	a, err = net.DialUDP("udp", a.LocalAddr().(*net.UDPAddr), b.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// countTap records the size of every chunk it sees.
type countTap struct{ sizes [2][]int }

func (c *countTap) Chunk(d Dir, p []byte) { c.sizes[d] = append(c.sizes[d], len(p)) }
func (c *countTap) EOF(d Dir)             {}

// TestDatagramBoundaries relays datagrams of many sizes, the empty one
// and the largest included, between two datagram conns, tapped while the
// tap budget is spent (so a stream would read 32 KiB at a time), and
// checks that each arrives whole and alone, and is counted.
func TestDatagramBoundaries(t *testing.T) {
	c1, x1 := udpPair(t)
	x2, c2 := udpPair(t)
	for _, c := range []*net.UDPConn{x1, x2} {
		c.SetReadBuffer(4 << 20)
		c.SetWriteBuffer(4 << 20)
	}
	c2.SetReadBuffer(4 << 20)
	tapBigOut.Add(tapBig)
	defer tapBigOut.Add(-tapBig)
	tap := &countTap{}
	done := make(chan Result, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		done <- Pair(ctx, dgramConn{x1, 65507}, dgramConn{x2, 65507}, Options{Taps: []Tap{tap}})
	}()
	sizes := []int{0, 1, 63, 64, 1400, 4096, 32 << 10, 40000, 65507, 2, 0, 777}
	buf := make([]byte, 70000)
	for i, n := range sizes {
		want := bytes.Repeat([]byte{byte(i + 1)}, n)
		if _, err := c1.Write(want); err != nil {
			t.Fatal(err)
		}
		c2.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := c2.Read(buf)
		if err != nil {
			t.Fatalf("datagram %d (%d bytes): %v", i, n, err)
		}
		if !bytes.Equal(buf[:got], want) {
			t.Fatalf("datagram %d: got %d bytes, want %d bytes of %d", i, got, n, i+1)
		}
	}
	// And one back.
	if _, err := c2.Write([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	c1.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c1.Read(buf); err != nil || string(buf[:n]) != "reply" {
		t.Fatalf("reply: %q, %v", buf[:n], err)
	}
	cancel()
	r := <-done
	if r.Datagrams[Forward] != int64(len(sizes)) || r.Datagrams[Backward] != 1 {
		t.Errorf("Datagrams = %v, want [%d 1]", r.Datagrams, len(sizes))
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	if r.Bytes[Forward] != int64(total) {
		t.Errorf("Bytes[Forward] = %d, want %d", r.Bytes[Forward], total)
	}
	if r.Err != nil {
		t.Errorf("Err = %v", r.Err)
	}
	for i, n := range sizes {
		if n > 0 && (i >= len(tap.sizes[Forward]) || tap.sizes[Forward][i] != n) {
			t.Fatalf("tap saw chunks %v, want one per datagram %v", tap.sizes[Forward], sizes)
		}
	}
}

// TestDatagramFromStream copies a stream into a datagram conn: each read
// takes at most the conn's MaxDatagram, so every datagram is within it,
// and together they carry the whole stream. The stream's end does not end
// the pairing (a datagram conn has nothing to half-close); Linger does.
func TestDatagramFromStream(t *testing.T) {
	tc, ts := tcpPair(t)
	x, c := udpPair(t)
	c.SetReadBuffer(4 << 20)
	const max = 1000
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	done := make(chan Result, 1)
	go func() {
		done <- Pair(context.Background(), ownTCP{ts}, dgramConn{x, max}, Options{Linger: 300 * time.Millisecond})
	}()
	go func() {
		// Slowly, so that the receiver keeps up: UDP drops what it cannot hold.
		for off := 0; off < len(data); off += 5000 {
			tc.Write(data[off : off+5000])
			time.Sleep(time.Millisecond)
		}
		tc.CloseWrite()
	}()
	var got []byte
	buf := make([]byte, 70000)
	for len(got) < len(data) {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(got), err)
		}
		if n > max {
			t.Fatalf("a datagram of %d bytes, over the conn's %d", n, max)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("the datagrams do not carry the stream")
	}
	select {
	case r := <-done:
		if r.Err != nil || r.Reason != "linger expired" {
			t.Fatalf("pairing ended with %q, %v; want the linger to end it", r.Reason, r.Err)
		}
		if r.Datagrams[Forward] < int64(len(data)/max) {
			t.Errorf("Datagrams[Forward] = %d, want at least %d", r.Datagrams[Forward], len(data)/max)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pairing did not end after its linger")
	}
	// The TCP side was not half-closed for a datagram conn's sake, and
	// read nothing back.
	tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := tc.Read(buf); err != io.EOF {
		t.Fatalf("TCP side: read %d, %v; want EOF once the pairing closed", n, err)
	}
}

// batchSource hands out datagrams numbered from 0, in batches of the
// sizes given (as many as were "there" each time), then blocks until
// closed; each datagram's first byte is its number mod 256 and its
// length its number mod 300.
type batchSource struct {
	mu      sync.Mutex
	batches []int
	next    int
	waits   int // WaitRead calls
	nowaits int // reads without wait
	closed  chan struct{}
}

func (s *batchSource) MaxDatagram() int { return 65507 }
func (s *batchSource) WaitRead() error {
	s.mu.Lock()
	s.waits++
	empty := len(s.batches) == 0
	s.mu.Unlock()
	if empty {
		<-s.closed
	}
	return nil
}
func (s *batchSource) ReadDatagrams(bufs [][]byte, sizes []int, wait bool) (int, error) {
	s.mu.Lock()
	if !wait {
		s.nowaits++
	}
	if len(s.batches) == 0 {
		s.mu.Unlock()
		if !wait {
			return 0, nil
		}
		<-s.closed
		return 0, net.ErrClosed
	}
	k := min(s.batches[0], len(bufs))
	if s.batches[0] -= k; s.batches[0] == 0 {
		s.batches = s.batches[1:]
	}
	for i := range k {
		n := s.next
		s.next++
		sizes[i] = n % 300
		for j := range sizes[i] {
			bufs[i][j] = byte(n)
		}
	}
	s.mu.Unlock()
	return k, nil
}
func (s *batchSource) Read(p []byte) (int, error)  { return 0, errors.New("Read called") }
func (s *batchSource) Write(p []byte) (int, error) { return len(p), nil }
func (s *batchSource) Close() error {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	return nil
}

// batchSink records every datagram written, and the batches.
type batchSink struct {
	mu      sync.Mutex
	got     [][]byte
	batches []int
	more    chan struct{}
	closed  chan struct{}
	once    sync.Once
}

func (s *batchSink) MaxDatagram() int { return 65507 }
func (s *batchSink) WriteDatagrams(ds [][]byte) (int, error) {
	s.mu.Lock()
	for _, d := range ds {
		s.got = append(s.got, bytes.Clone(d))
	}
	s.batches = append(s.batches, len(ds))
	s.mu.Unlock()
	select {
	case s.more <- struct{}{}:
	default:
	}
	return len(ds), nil
}
func (s *batchSink) Read(p []byte) (int, error) {
	<-s.closed // nothing comes back: the test ends the pairing
	return 0, net.ErrClosed
}
func (s *batchSink) Write(p []byte) (int, error) { return 0, errors.New("Write called") }
func (s *batchSink) Close() error                { s.once.Do(func() { close(s.closed) }); return nil }

// TestDatagramBatches: between a DatagramReader and a DatagramWriter the
// copy moves what each read returns in one write, in order, whatever the
// batches' sizes (one, a full batch, more than a batch), and counts them.
func TestDatagramBatches(t *testing.T) {
	src := &batchSource{batches: []int{1, 1, 2, 5, 32, 100, 3, 64, 52, 1}, closed: make(chan struct{})}
	total := 0
	for _, b := range src.batches {
		total += b
	}
	sink := &batchSink{more: make(chan struct{}, 1), closed: make(chan struct{})}
	done := make(chan Result, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- Pair(ctx, src, sink, Options{}) }()
	deadline := time.After(10 * time.Second)
	for {
		sink.mu.Lock()
		n := len(sink.got)
		sink.mu.Unlock()
		if n >= total {
			break
		}
		select {
		case <-sink.more:
		case <-deadline:
			t.Fatalf("%d of %d datagrams after 10s", n, total)
		}
	}
	cancel()
	r := <-done
	for i, d := range sink.got {
		if len(d) != i%300 || len(d) > 0 && d[0] != byte(i) {
			t.Fatalf("datagram %d: %d bytes, first %v", i, len(d), d[:min(1, len(d))])
		}
	}
	if r.Datagrams[Forward] != int64(total) {
		t.Errorf("Datagrams[Forward] = %d, want %d", r.Datagrams[Forward], total)
	}
	for _, b := range sink.batches {
		if b > DatagramBatch {
			t.Fatalf("a batch of %d, over %d", b, DatagramBatch)
		}
	}
	if len(sink.batches) >= total {
		t.Errorf("%d writes for %d datagrams: no batching", len(sink.batches), total)
	}
}
