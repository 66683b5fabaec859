package conn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gnc/relay"
)

// taggedData is n random bytes that each carry id in their high nibble,
// so a receiver can tell, byte by byte, whose stream a byte is from even
// where the broker interleaves the senders' chunks.
func taggedData(id, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(id), 'b'}).Read(b)
	for i := range b {
		b[i] = byte(id)<<4 | b[i]&0x0f
	}
	return b
}

// demux splits a received stream by sender, keeping each sender's
// bytes in order.
type demux struct {
	streams [16]bytes.Buffer
}

func (d *demux) Write(p []byte) (int, error) {
	for _, b := range p {
		d.streams[b>>4].WriteByte(b)
	}
	return len(p), nil
}

// brokerClient is a client of a broker over loopback TCP, whose accepted
// end relay.Pair pairs with its participant.
type brokerClient struct {
	c   *net.TCPConn
	p   *Participant
	res chan relay.Result
}

// joinClients connects n clients; tweak, if not nil, sees each client's
// two ends before the pairing starts.
func joinClients(t *testing.T, b *Broker, n int, tweak func(i int, client, server *net.TCPConn)) []*brokerClient {
	t.Helper()
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var cs []*brokerClient
	for i := range n {
		c, err := net.DialTCP("tcp", nil, l.Addr().(*net.TCPAddr))
		if err != nil {
			t.Fatal(err)
		}
		s, err := l.AcceptTCP()
		if err != nil {
			t.Fatal(err)
		}
		if tweak != nil {
			tweak(i, c, s)
		}
		p, err := b.Join(s.RemoteAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		bc := &brokerClient{c: c, p: p, res: make(chan relay.Result, 1)}
		go func() { bc.res <- relay.Pair(ctx, s, p, relay.Options{}) }()
		t.Cleanup(func() { c.Close() })
		cs = append(cs, bc)
	}
	return cs
}

// runSenders has each client of cs but those in quiet send size bytes of
// its own tagged data and read what the other senders sent, and checks
// that each got exactly every other sender's stream, intact and in order,
// and none of its own. It returns once all readers are done.
func runSenders(t *testing.T, cs []*brokerClient, size int, quiet map[int]bool) {
	t.Helper()
	var senders []int
	for i := range cs {
		if !quiet[i] {
			senders = append(senders, i)
		}
	}
	sums := map[int][32]byte{}
	data := map[int][]byte{}
	for _, i := range senders {
		data[i] = taggedData(i, size)
		sums[i] = sha256.Sum256(data[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(cs))
	for _, i := range senders {
		c := cs[i].c
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := c.Write(data[i]); err != nil {
				errs <- fmt.Errorf("client %d writing: %w", i, err)
			}
		}()
		go func() {
			defer wg.Done()
			// Read first and sort the bytes out afterwards, so that a
			// slow test (-race) does not make a slow reader.
			got := make([]byte, size*(len(senders)-1))
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			if n, err := io.ReadFull(c, got); err != nil {
				errs <- fmt.Errorf("client %d read %d of %d bytes: %w", i, n, len(got), err)
				return
			}
			var d demux
			d.Write(got)
			for _, j := range senders {
				got := d.streams[j].Bytes()
				switch {
				case j == i && len(got) != 0:
					errs <- fmt.Errorf("client %d got %d of its own bytes back", i, len(got))
				case j != i && sha256.Sum256(got) != sums[j]:
					errs <- fmt.Errorf("client %d: sender %d's %d bytes do not match (got %d)", i, j, size, len(got))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestBrokerTenClients: ten clients each send 1 MiB of their own; each
// receives the nine others' streams intact and none of its own.
func TestBrokerTenClients(t *testing.T) {
	b := NewBroker(BrokerOptions{})
	defer b.Close()
	cs := joinClients(t, b, 10, nil)
	runSenders(t, cs, 1<<20, nil)
	for i, c := range cs {
		c.c.Close()
		select {
		case r := <-c.res:
			if r.Err != nil && !errors.Is(r.Err, net.ErrClosed) && !errors.Is(r.Err, syscall.ECONNRESET) {
				t.Errorf("client %d's pairing: %v", i, r.Err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("client %d's pairing did not end when the client closed", i)
		}
	}
	if b.peak > DefaultBrokerQueue+256<<10 {
		t.Errorf("a queue held %d bytes", b.peak)
	}
}

// TestBrokerStuckClient: a client that stops reading is dropped, with
// ErrTooSlow, and the others finish.
func TestBrokerStuckClient(t *testing.T) {
	const queue = 64 << 10
	b := NewBroker(BrokerOptions{QueueSize: queue})
	defer b.Close()
	const stuck = 9
	cs := joinClients(t, b, 10, func(i int, client, server *net.TCPConn) {
		if i == stuck {
			// Small buffers, so that the queue, not the kernel, holds
			// what it does not read.
			client.SetReadBuffer(4 << 10)
			server.SetWriteBuffer(4 << 10)
		}
	})
	runSenders(t, cs, 1<<20, map[int]bool{stuck: true})
	select {
	case r := <-cs[stuck].res:
		if !errors.Is(r.Err, ErrTooSlow) || !errors.Is(r.Err, ErrStalled) {
			t.Errorf("the stuck client's pairing: %q, %v", r.Reason, r.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stuck client's pairing did not end")
	}
	if b.peak > 2*queue+256<<10 {
		t.Errorf("a queue held %d bytes", b.peak)
	}
	b.mu.Lock()
	n := len(b.parts)
	b.mu.Unlock()
	if n != 9 {
		t.Errorf("%d participants left, want 9", n)
	}
}

// TestBrokerMemoryBound: a sender goes on past a participant that never
// reads, which is dropped after Stall, while the queue it held stays
// within its bound; a participant that reads gets everything.
func TestBrokerMemoryBound(t *testing.T) {
	const queue, chunk = 256 << 10, 64 << 10
	b := NewBroker(BrokerOptions{QueueSize: queue, Stall: time.Second})
	defer b.Close()
	s, _ := b.Join("sender")
	reader, _ := b.Join("reader")
	stuck, _ := b.Join("stuck")
	aborted := make(chan error, 1)
	stuck.BindAbort(func(err error) { aborted <- err })
	data := taggedData(1, 8<<20)
	got := make(chan []byte, 1)
	go func() {
		var buf bytes.Buffer
		io.CopyN(&buf, reader, int64(len(data)))
		got <- buf.Bytes()
	}()
	for off := 0; off < len(data); off += chunk {
		if _, err := s.Write(data[off : off+chunk]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(<-got, data) {
		t.Error("the reader did not get the sender's bytes intact")
	}
	select {
	case err := <-aborted:
		if !errors.Is(err, ErrTooSlow) {
			t.Errorf("aborted with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stuck participant's pairing was not ended")
	}
	buf := make([]byte, 256)
	n, _ := stuck.Read(buf)
	if want := "gnc: you were dropped: too slow (256 KiB behind)\n"; string(buf[:n]) != want {
		t.Errorf("notice %q", buf[:n])
	}
	if _, err := stuck.Read(buf); !errors.Is(err, ErrTooSlow) {
		t.Errorf("after the notice: %v", err)
	}
	if b.peak > queue+chunk {
		t.Errorf("a queue held %d bytes, bound %d", b.peak, queue)
	}
}

// readString reads exactly len(want) bytes from p.
func readString(t *testing.T, p *Participant, want string) {
	t.Helper()
	buf := make([]byte, len(want))
	done := make(chan error, 1)
	go func() { _, err := io.ReadFull(p, buf); done <- err }()
	select {
	case err := <-done:
		if err != nil || string(buf) != want {
			t.Fatalf("%v read %q, %v; want %q", p, buf, err, want)
		}
	case <-time.After(5 * time.Second):
		p.Close()
		<-done
		t.Fatalf("%v read %q; want %q", p, buf, want)
	}
}

func TestBrokerChat(t *testing.T) {
	b := NewBroker(BrokerOptions{Chat: true})
	defer b.Close()
	local, _ := b.JoinLocal()
	a, _ := b.Join("10.0.0.1:4000")
	readString(t, local, "<announce> stdio is connected as <user0>.\n<announce> already connected: nobody.\n"+
		"<announce> 10.0.0.1:4000 is connected as <user1>.\n")
	readString(t, a, "<announce> 10.0.0.1:4000 is connected as <user1>.\n<announce> already connected: stdio as <user0>.\n")
	c, _ := b.Join("") // named when its pairing opens
	c.SetName("10.0.0.2:5000")
	joined := "<announce> 10.0.0.2:5000 is connected as <user2>.\n"
	readString(t, local, joined)
	readString(t, a, joined)
	readString(t, c, joined+"<announce> already connected: stdio as <user0>, 10.0.0.1:4000 as <user1>.\n")

	a.Write([]byte("hello\nparti"))
	a.Write([]byte("al \x1b[2J\x9b \xff é\r\nfake\r<user2> hi\n"))
	want := "<user1> hello\n<user1> partial ^[[2J\\x9b \\xff é\r\n<user1> fake^M<user2> hi\n"
	readString(t, local, want)
	readString(t, c, want)
	local.Write([]byte("from stdin, no newline"))
	local.CloseWrite()
	readString(t, a, "<user0> from stdin, no newline\n")
	if _, err := local.Write([]byte("x")); err == nil {
		t.Error("a write after CloseWrite went through")
	}
	c.Write([]byte("still here\n"))
	readString(t, local, "<user2> still here\n") // stdin's end did not end its part
	c.Close()
	readString(t, local, "<announce> <user2> is disconnected.\n")
	readString(t, a, "<user2> still here\n<announce> <user2> is disconnected.\n")
}

// TestBrokerLocalInputEnds: standard I/O's participant, paired over TCP
// as the stdio conn would be, goes on receiving after its input ends,
// and the clients go on.
func TestBrokerLocalInputEnds(t *testing.T) {
	b := NewBroker(BrokerOptions{})
	defer b.Close()
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stdio, err := net.DialTCP("tcp", nil, l.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer stdio.Close()
	s, _ := l.AcceptTCP()
	local, _ := b.JoinLocal()
	res := make(chan relay.Result, 1)
	go func() { res <- relay.Pair(context.Background(), s, local, relay.Options{}) }()
	cs := joinClients(t, b, 2, nil)

	stdio.Write([]byte("to all\n"))
	stdio.CloseWrite() // end of stdin
	for _, c := range cs {
		buf := make([]byte, 7)
		c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c.c, buf); err != nil || string(buf) != "to all\n" {
			t.Fatalf("client got %q, %v", buf, err)
		}
	}
	cs[0].c.Write([]byte("after stdin's end\n"))
	for _, r := range []io.Reader{stdio, cs[1].c} {
		buf := make([]byte, 18)
		if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "after stdin's end\n" {
			t.Fatalf("got %q, %v", buf, err)
		}
	}
	select {
	case r := <-res:
		t.Fatalf("standard I/O's pairing ended: %+v", r)
	default:
	}
	// A client that has finished sending leaves, as with ncat.
	cs[1].c.CloseWrite()
	select {
	case r := <-cs[1].res:
		if r.Reason != "peer eof" {
			t.Errorf("the client's pairing ended with %q, %v", r.Reason, r.Err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a client that finished sending is still paired")
	}
	b.Close()
	if _, err := io.ReadAll(stdio); err != nil {
		t.Errorf("stdout after the broker closed: %v", err)
	}
	if r := <-res; r.Err != nil {
		t.Errorf("standard I/O's pairing: %v", r.Err)
	}
}

func TestBrokerJoinLimits(t *testing.T) {
	b := NewBroker(BrokerOptions{MaxParticipants: 2})
	local, err := b.JoinLocal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.JoinLocal(); err == nil {
		t.Error("standard I/O joined twice")
	}
	p1, _ := b.Join("a")
	if _, err := b.Join("b"); err != nil {
		t.Errorf("second client: %v (standard I/O is not counted)", err)
	}
	if c, err := b.Open(context.Background()); !errors.Is(err, ErrBrokerFull) || c != nil {
		t.Errorf("third client: %v, %v", c, err)
	}
	p1.Close()
	if _, err := b.Join("c"); err != nil {
		t.Errorf("after one left: %v", err)
	}
	// What was queued is read before the end of file.
	p2, _ := b.Join("")
	_ = p2
	b.Close()
	if _, err := b.Join("d"); !errors.Is(err, ErrBrokerClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := local.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after Close: %v", err)
	}
	if got := fmt.Sprint(p1, " ", local); !strings.Contains(got, "broker <user1>") || !strings.Contains(got, "broker <user0>") {
		t.Errorf("names: %s", got)
	}
}

// TestBrokerCloseDrains: a participant reads what was queued for it
// before the broker closed, then EOF.
func TestBrokerCloseDrains(t *testing.T) {
	b := NewBroker(BrokerOptions{})
	a, _ := b.Join("a")
	c, _ := b.Join("c")
	a.Write([]byte("last words"))
	b.Close()
	got, err := io.ReadAll(c)
	if string(got) != "last words" || err != nil {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := a.Write([]byte("x")); err == nil {
		t.Error("a write after Close went through")
	}
}

// chatOutput is what a second participant receives when the first sends
// in, cut into writes of the given size, and then ends its input.
func chatOutput(in []byte, step int) string {
	b := NewBroker(BrokerOptions{Chat: true})
	a, _ := b.Join("a")
	c, _ := b.Join("c")
	got := make(chan []byte)
	go func() {
		out, _ := io.ReadAll(c)
		got <- out
	}()
	for rest := in; len(rest) > 0; {
		n := min(step, len(rest))
		a.Write(rest[:n])
		rest = rest[n:]
	}
	a.CloseWrite()
	b.Close()
	out := <-got
	// Leave out the announcements.
	s := string(out)
	for strings.HasPrefix(s, "<announce> ") {
		s = s[strings.IndexByte(s, '\n')+1:]
	}
	return s
}

func FuzzBrokerChat(f *testing.F) {
	for _, s := range []string{"hi\n", "a\r\nb", "\x1b]0;x\a\n", "fake\r<user9> x\n", "\xe2\x82\xac\xff\n", strings.Repeat("x", maxChatLine+3)} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		whole := chatOutput(in, len(in)+1)
		if got := chatOutput(in, int(step)%17+1); got != whole {
			t.Fatalf("in pieces: %q, whole: %q", got, whole)
		}
		for _, line := range strings.SplitAfter(whole, "\n") {
			if line == "" {
				continue
			}
			body, ok := strings.CutPrefix(line, "<user1> ")
			if !ok || !strings.HasSuffix(body, "\n") {
				t.Fatalf("line %q is not one of user1's", line)
			}
			body = strings.TrimSuffix(strings.TrimSuffix(body, "\n"), "\r")
			for _, r := range body {
				if r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\ufffd' && !strings.Contains(string(in), "\ufffd") {
					t.Fatalf("line %q carries %q", line, r)
				}
			}
		}
	})
}
