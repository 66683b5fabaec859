package conn

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"gnc/relay"
)

// TestUDPQueueFull: a session whose conn does not read holds maxQueue
// datagrams and drops the rest, counted; it then delivers the first ones,
// in order.
func TestUDPQueueFull(t *testing.T) {
	l, err := ListenUDP(context.Background(), "127.0.0.1", "0", TCPOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.DialUDP("udp", nil, l.Addr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{0, 0})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rw, err := l.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := rw.(*udpSession)
	defer s.Close()
	queued := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.q.n
	}
	// In steps the kernel's buffer holds, each waited for, so that every
	// datagram reaches the session and the count is exact.
	const total = maxQueue + 44
	for sent := 1; sent < total; {
		step := min(32, total-sent)
		for i := range step {
			n := sent + i
			c.Write([]byte{byte(n >> 8), byte(n)})
		}
		sent += step
		want := min(sent, maxQueue)
		deadline := time.Now().Add(10 * time.Second)
		for queued() < want || sent > maxQueue && int(s.Dropped()) < sent-maxQueue {
			if time.Now().After(deadline) {
				t.Fatalf("after %d datagrams: %d queued, %d dropped", sent, queued(), s.Dropped())
			}
			time.Sleep(time.Millisecond) // polling a count, not synchronising
		}
	}
	if s.Dropped() != total-maxQueue || queued() != maxQueue {
		t.Fatalf("%d queued, %d dropped; want %d and %d", queued(), s.Dropped(), maxQueue, total-maxQueue)
	}
	buf := make([]byte, 100)
	for i := range maxQueue {
		n, err := s.Read(buf)
		if err != nil || n != 2 || int(buf[0])<<8|int(buf[1]) != i {
			t.Fatalf("datagram %d: %v %v", i, buf[:n], err)
		}
	}
}

// TestUDPSessionNoAllocs: a datagram's way through a session listener,
// from the socket to the session's Read and back out through its Write,
// allocates nothing.
func TestUDPSessionNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	l, err := ListenUDP(context.Background(), "127.0.0.1", "0", TCPOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.DialUDP("udp", nil, l.Addr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := l.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 65536)
	sess := s.(*udpSession)
	roundTrip := func() {
		if err := sess.WaitRead(); err != nil {
			t.Fatal(err)
		}
		n, err := sess.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sess.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		c.Write(buf[:5])
	}
	roundTrip()
	if a := testing.AllocsPerRun(200, roundTrip); a > 0 {
		t.Fatalf("%.1f allocations per datagram, want none", a)
	}
}

// TestUDPConnNoAllocs: a connected UDP conn's WaitRead, Read and Write
// allocate nothing.
func TestUDPConnNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	d := &UDPDialer{Host: "127.0.0.1", Port: peer.LocalAddr().(*net.UDPAddr).Port}
	c, err := d.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 65536)
	c.Write([]byte("x"))
	_, from, _ := peer.ReadFromUDPAddrPort(buf)
	roundTrip := func() {
		peer.WriteToUDPAddrPort(buf[:8], from)
		if err := c.WaitRead(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		c.Write(buf[:8])
		peer.ReadFromUDPAddrPort(buf)
	}
	roundTrip()
	if a := testing.AllocsPerRun(200, roundTrip); a > 0 {
		t.Fatalf("%.1f allocations per datagram, want none", a)
	}
}

// TestUDPBatchNoAllocs: the batched calls the copy engine makes between
// a session and a connected UDP conn allocate nothing.
func TestUDPBatchNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	d := &UDPDialer{Host: "127.0.0.1", Port: peer.LocalAddr().(*net.UDPAddr).Port}
	c, err := d.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l, err := ListenUDP(context.Background(), "127.0.0.1", "0", TCPOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.DialUDP("udp", nil, l.Addr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.Write([]byte("hello"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rw, err := l.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := rw.(*udpSession)
	defer s.Close()
	bufs := make([][]byte, 4)
	for i := range bufs {
		bufs[i] = make([]byte, 65536)
	}
	sizes := make([]int, 4)
	out := make([][]byte, 4)
	buf := make([]byte, 65536)
	c.Write([]byte("x"))
	_, from, _ := peer.ReadFromUDPAddrPort(buf)
	roundTrip := func() {
		// client -> session -> c -> peer, and back.
		if err := s.WaitRead(); err != nil {
			t.Fatal(err)
		}
		n, err := s.ReadDatagrams(bufs, sizes, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			out[i] = bufs[i][:sizes[i]]
		}
		if _, err := c.WriteDatagrams(out[:n]); err != nil {
			t.Fatal(err)
		}
		k, _, _ := peer.ReadFromUDPAddrPort(buf)
		peer.WriteToUDPAddrPort(buf[:k], from)
		if err := c.WaitRead(); err != nil {
			t.Fatal(err)
		}
		if n, err = c.ReadDatagrams(bufs, sizes, true); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			out[i] = bufs[i][:sizes[i]]
		}
		if _, err := s.WriteDatagrams(out[:n]); err != nil {
			t.Fatal(err)
		}
		k, _ = client.Read(buf)
		client.Write(buf[:k])
	}
	roundTrip()
	if a := testing.AllocsPerRun(200, roundTrip); a > 0 {
		t.Fatalf("%.1f allocations per round trip, want none", a)
	}
}

// TestSendRuns: consecutive datagrams of one size go as one UDP_SEGMENT
// run, a shorter one ends a run, an empty or a larger one starts a new
// header, and runs stay within the kernel's bounds.
func TestSendRuns(t *testing.T) {
	mk := func(sizes ...int) [][]byte {
		ds := make([][]byte, len(sizes))
		for i, n := range sizes {
			ds[i] = make([]byte, n)
		}
		return ds
	}
	b := mmsgPool.Get().(*mmsgBatch)
	defer mmsgPool.Put(b)
	for _, c := range []struct {
		sizes   []int
		limit   int
		runs    []int
		longest int
	}{
		{[]int{64, 64, 64}, MaxDatagram, []int{3}, 64},
		{[]int{64, 64, 10, 64}, MaxDatagram, []int{3, 1}, 64},
		{[]int{64, 100, 100}, MaxDatagram, []int{1, 2}, 100},
		{[]int{64, 0, 64, 64}, MaxDatagram, []int{1, 1, 2}, 64},
		{[]int{0, 0}, MaxDatagram, []int{1, 1}, 0},
		{[]int{64, 64, 64}, 63, []int{1, 1, 1}, 0},
		{[]int{40000, 40000}, MaxDatagram, []int{1, 1}, 0}, // together too long for one packet
		{make([]int, 40), MaxDatagram, make([]int, relay.DatagramBatch), 0},
	} {
		for i := range c.runs {
			if c.runs[i] == 0 {
				c.runs[i] = 1 // the all-empty case: one header each, up to the batch
			}
		}
		longest := b.fill(mk(c.sizes...), 0, c.limit)
		if !slices.Equal(b.runs[:b.k], c.runs) || longest != c.longest {
			t.Errorf("sizes %v limit %d: runs %v longest %d, want %v and %d", c.sizes, c.limit, b.runs[:b.k], longest, c.runs, c.longest)
		}
	}
	many := make([]int, relay.DatagramBatch)
	for i := range many {
		many[i] = 8
	}
	if b.fill(mk(many...), 0, MaxDatagram); b.k != 1 || b.runs[0] != len(many) {
		t.Errorf("%d datagrams of 8 bytes: runs %v, want one of all", len(many), b.runs[:b.k])
	}
}

// TestSendRunsKeepBoundaries: datagrams sent in runs arrive one by one,
// each whole and in order, with runs on and with them turned off.
func TestSendRunsKeepBoundaries(t *testing.T) {
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peer.SetReadBuffer(4 << 20)
	d := &UDPDialer{Host: "127.0.0.1", Port: peer.LocalAddr().(*net.UDPAddr).Port}
	c, err := d.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sizes := []int{64, 64, 64, 64, 30, 64, 1400, 1400, 1400, 0, 7, 7, 9, 65507, 1, 1, 1}
	for _, limit := range []int64{MaxDatagram, 0} {
		old := gsoMax.Load()
		gsoMax.Store(limit)
		ds := make([][]byte, len(sizes))
		for i, n := range sizes {
			ds[i] = make([]byte, n)
			for j := range ds[i] {
				ds[i][j] = byte(i)
			}
		}
		n, err := c.WriteDatagrams(ds)
		gsoMax.Store(old)
		if err != nil || n != len(ds) {
			t.Fatalf("limit %d: WriteDatagrams = %d, %v", limit, n, err)
		}
		buf := make([]byte, 65536)
		peer.SetReadDeadline(time.Now().Add(10 * time.Second))
		for i, want := range sizes {
			got, err := peer.Read(buf)
			if err != nil {
				t.Fatalf("limit %d, datagram %d: %v", limit, i, err)
			}
			if got != want || (got > 0 && (buf[0] != byte(i) || buf[got-1] != byte(i))) {
				t.Fatalf("limit %d, datagram %d: %d bytes starting %v, want %d of %d", limit, i, got, buf[:min(got, 4)], want, i)
			}
		}
	}
}
