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
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpInfo reads the kernel's TCP_INFO for c.
func tcpInfo(t *testing.T, c *net.TCPConn) *unix.TCPInfo {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		t.Fatal(err)
	}
	if ierr != nil {
		t.Fatal(ierr)
	}
	return info
}

// TestLastBytesRideWithFIN: when the source has already ended behind its
// last bytes, those bytes and the relay's FIN reach the peer in one
// segment, and nothing changes in what the peer reads.
func TestLastBytesRideWithFIN(t *testing.T) {
	client, a := tcpPair(t)
	b, server := tcpPair(t)
	client.Write([]byte("request"))
	client.CloseWrite()
	// Wait for the client's FIN to reach the relay's socket, so that the
	// copy finds bytes and end of file together.
	deadline := time.Now().Add(10 * time.Second)
	for tcpInfo(t, a).State != unix.BPF_TCP_CLOSE_WAIT {
		if time.Now().After(deadline) {
			t.Fatal("the client's FIN never reached the relay")
		}
		runtime.Gosched()
	}
	before := tcpInfo(t, server).Segs_in
	done := make(chan Result, 1)
	go func() { done <- Pair(context.Background(), ownTCP{a}, ownTCP{b}, Options{}) }()
	server.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(server)
	if err != nil || string(got) != "request" {
		t.Fatalf("server read %q, %v; want \"request\" and end of file", got, err)
	}
	if n := tcpInfo(t, server).Segs_in - before; n != 1 {
		t.Errorf("the request and its FIN came in %d segments, want 1", n)
	}
	server.Write([]byte("reply"))
	server.Close()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	if got, err := io.ReadAll(client); err != nil || string(got) != "reply" {
		t.Fatalf("client read %q, %v; want \"reply\" and end of file", got, err)
	}
	if r := waitResult(t, done); r.Err != nil || r.Bytes != [2]int64{7, 5} {
		t.Fatalf("result %+v, want no error and 7/5 bytes", r)
	}
}

// TestBulkTailNotHeld: once a stream into a pipe has moved enough to
// raise the socket's low-water mark, a tail shorter than the mark that is
// not followed by more bytes or an end of file still comes out promptly.
func TestBulkTailNotHeld(t *testing.T) {
	client, a := tcpPair(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	done := make(chan Result, 1)
	go func() { done <- Pair(context.Background(), ownTCP{a}, halves{w: pw}, Options{}) }()

	payload := make([]byte, 2*bulkAfter+1000)
	rand.NewChaCha8([32]byte{7}).Read(payload)
	burst, tail := payload[:2*bulkAfter], payload[2*bulkAfter:]
	got := make([]byte, len(payload))
	pr.SetReadDeadline(time.Now().Add(10 * time.Second))
	go client.Write(burst)
	if n, err := io.ReadFull(pr, got[:len(burst)]); err != nil {
		t.Fatalf("read %d of the burst's %d bytes from the pipe: %v", n, len(burst), err)
	}
	// The relay has drained the socket; now a tail and then nothing: no
	// more bytes, no FIN. The mark's wait is bounded by bulkWait (2 ms);
	// a second is a bound a loaded machine still keeps, and without the
	// bound the tail never comes.
	client.Write(tail)
	pr.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := io.ReadFull(pr, got[len(burst):]); err != nil {
		t.Fatalf("read %d of the tail's %d bytes from the pipe within a second: %v", n, len(tail), err)
	}
	if sha256.Sum256(got) != sha256.Sum256(payload) {
		t.Fatal("the bytes out of the pipe differ from those sent")
	}
	client.Close()
	if r := waitResult(t, done); r.Err != nil || r.Bytes[Forward] != int64(len(payload)) {
		t.Fatalf("result %+v, want no error and %d bytes forward", r, len(payload))
	}
}

// TestReset: a reset on one side ends the pairing at once with that
// error, and resets the other side.
func TestReset(t *testing.T) {
	client, server, done := relayed(t, Options{})
	client.Write([]byte("x"))
	server.SetDeadline(time.Now().Add(10 * time.Second))
	io.ReadFull(server, make([]byte, 1))
	client.SetLinger(0)
	client.Close()
	r := waitResult(t, done)
	if !errors.Is(r.Err, syscall.ECONNRESET) {
		t.Fatalf("result %+v, want a connection reset", r)
	}
	if _, err := server.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("server read %v, want the reset passed on", err)
	}
}

// routeLog records the routes directions take, through routeHook.
type routeLog struct {
	mu     sync.Mutex
	routes [2][]route
	seen   chan struct{} // gets a token on every fallback to a buffer
}

func watchRoutes(t *testing.T) *routeLog {
	l := &routeLog{seen: make(chan struct{}, 1)}
	routeHook = func(d Dir, r route) {
		l.mu.Lock()
		defer l.mu.Unlock()
		rs := l.routes[d]
		if len(rs) > 0 && rs[len(rs)-1] >= viaPipe && r < viaPipe {
			select {
			case l.seen <- struct{}{}:
			default:
			}
		}
		l.routes[d] = append(rs, r)
	}
	t.Cleanup(func() { routeHook = nil })
	return l
}

func (l *routeLog) get(d Dir) []route {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]route(nil), l.routes[d]...)
}

// echo echoes c to itself in user space (Go's own splice would need
// pipes of its own) and half-closes after end of file.
func echo(c *net.TCPConn) {
	io.Copy(struct{ io.Writer }{c}, struct{ io.Reader }{c})
	c.CloseWrite()
}

// stream writes seeded random bytes to c until stop is closed, then
// half-closes c, and sends the hash and count of what it wrote.
func stream(c *net.TCPConn, seed byte, stop <-chan struct{}) <-chan [32]byte {
	sum := make(chan [32]byte, 1)
	go func() {
		h := sha256.New()
		src := rand.NewChaCha8([32]byte{seed})
		buf := make([]byte, 64<<10)
		for {
			select {
			case <-stop:
				c.CloseWrite()
				var s [32]byte
				copy(s[:], h.Sum(nil))
				sum <- s
				return
			default:
			}
			src.Read(buf)
			if _, err := c.Write(buf); err != nil {
				sum <- [32]byte{}
				return
			}
			h.Write(buf)
		}
	}()
	return sum
}

// TestNoDescriptorsLosesNothing: with the descriptor table full and the
// pipe pool empty, a busy pairing's splice cannot get a pipe; it goes on
// through a buffer (and back to splice when it can), loses no byte, and
// only new connections fail.
func TestNoDescriptorsLosesNothing(t *testing.T) {
	routes := watchRoutes(t)
	client, server, done := relayed(t, Options{})
	go echo(server)
	stop := make(chan struct{})
	sent := stream(client, 1, stop)
	got := make(chan [32]byte, 1)
	started := make(chan struct{})
	go func() {
		h := sha256.New()
		io.CopyN(h, client, 1<<20)
		close(started)
		io.Copy(h, client)
		var s [32]byte
		copy(s[:], h.Sum(nil))
		got <- s
	}()
	client.SetDeadline(time.Now().Add(30 * time.Second))
	<-started

	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	full := lim
	full.Cur = 0 // no new descriptor at all
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &full); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
				t.Error(err)
			}
		}
	}
	defer restore()

	// Take every pipe the pool frees, as other pairings would, so the
	// busy one must ask pipe2 for a new one.
	grabbed := make(chan []*pipe)
	stopGrab := make(chan struct{})
	go func() {
		var held []*pipe
		for {
			select {
			case <-stopGrab:
				grabbed <- held
				return
			default:
			}
			if p, err := getPipe(); err == nil {
				held = append(held, p)
			}
			runtime.Gosched()
		}
	}()
	var ended *Result
	select {
	case <-routes.seen:
	case r := <-done:
		ended = &r
		t.Errorf("the pairing ended with the table full: %+v", r)
	case <-time.After(20 * time.Second):
		t.Error("no direction fell back to a buffer within 20s")
	}
	if c, err := net.Dial("tcp", "127.0.0.1:1"); !errors.Is(err, syscall.EMFILE) {
		t.Errorf("a new connection with no descriptor left: %v, want EMFILE", err)
		if c != nil {
			c.Close()
		}
	}
	close(stopGrab)
	for _, p := range <-grabbed {
		putPipe(p)
	}
	restore()

	close(stop)
	want := <-sent
	if s := <-got; s != want || want == ([32]byte{}) {
		t.Errorf("the echo differs from what was sent")
	}
	if ended != nil {
		return
	}
	r := waitResult(t, done)
	if r.Err != nil || r.Bytes[Forward] != r.Bytes[Backward] {
		t.Errorf("result %+v, want no error and as many bytes each way", r)
	}
	t.Logf("routes: forward %v, backward %v", routes.get(Forward), routes.get(Backward))
}

// prefixTCP is our own socket with bytes already read from it, as a proxy
// client holds after reading a reply head.
type prefixTCP struct {
	*net.TCPConn
	prefix []byte
}

func (c *prefixTCP) OwnSocket() bool { return true }

func (c *prefixTCP) TakePrefix() []byte {
	p := c.prefix
	c.prefix = nil
	return p
}

func (c *prefixTCP) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.TCPConn.Read(p)
}

// TestPrefixThenSplice: the bytes a conn has read ahead reach the
// destination first, counted and tapped, and the rest is still spliced.
func TestPrefixThenSplice(t *testing.T) {
	for _, tapped := range []bool{false, true} {
		routes := watchRoutes(t)
		client, a := tcpPair(t)
		b, server := tcpPair(t)
		payload := make([]byte, 4<<20)
		rand.NewChaCha8([32]byte{5}).Read(payload)
		const ahead = 1000
		client.Write(payload[:ahead])
		head := make([]byte, ahead)
		if _, err := io.ReadFull(a, head); err != nil {
			t.Fatal(err)
		}
		var opt Options
		var counted Counters
		opt.Counters = &counted
		tap := &hashTap{}
		if tapped {
			opt.Taps = []Tap{tap}
		}
		done := make(chan Result, 1)
		go func() { done <- Pair(context.Background(), &prefixTCP{a, head}, ownTCP{b}, opt) }()
		go func() {
			client.Write(payload[ahead:])
			client.CloseWrite()
		}()
		server.SetDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(server)
		if err != nil || sha256.Sum256(got) != sha256.Sum256(payload) {
			t.Fatalf("tapped=%v: server read %d of %d bytes (%v), or not the bytes sent", tapped, len(got), len(payload), err)
		}
		server.Close()
		r := waitResult(t, done)
		if r.Err != nil || r.Bytes[Forward] != int64(len(payload)) || counted.Load(Forward) != int64(len(payload)) {
			t.Fatalf("tapped=%v: result %+v, counted %d", tapped, r, counted.Load(Forward))
		}
		want := []route{viaPipeFIN}
		if tapped {
			want = []route{viaBufferWait}
			if tap.sum(Forward) != sha256.Sum256(payload) {
				t.Errorf("the tap did not see the prefix and the rest")
			}
		}
		if got := routes.get(Forward); !slices.Equal(got, want) {
			t.Errorf("tapped=%v: forward took routes %v, want %v", tapped, got, want)
		}
	}
}

// TestRoutes checks the table against real descriptors of every kind,
// and the rules that override it.
func TestRoutes(t *testing.T) {
	mine, theirs := tcpPair(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	dir := t.TempDir()
	file, err := os.Create(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	appending, err := os.OpenFile(dir+"/a", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer appending.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, c := range []struct {
		name     string
		x        any
		forWrite bool
		kind     fdKind
		own      bool
	}{
		{"own socket", ownTCP{mine}, false, kindSocket, true},
		{"own socket that says no", notOwn{mine}, false, kindSocket, false},
		{"plain socket (stdin's, say)", theirs, false, kindSocket, false},
		{"pipe", pr, false, kindPipe, false},
		{"pipe", pw, true, kindPipe, false},
		{"file", file, true, kindFile, false},
		{"file opened for appending", appending, true, kindOther, false},
		{"/dev/null", null, true, kindDevNull, false},
		{"/dev/null as a source", null, false, kindOther, false},
		{"wrapper", struct{ io.Reader }{theirs}, false, kindOther, false},
	} {
		if fd := fdOf(c.x, c.forWrite); fd.kind != c.kind || fd.own != c.own {
			t.Errorf("%s: kind %d own %v, want %d %v", c.name, fd.kind, fd.own, c.kind, c.own)
		}
	}
	for _, c := range []struct {
		src, dst fdKind
		want     route
	}{
		{kindSocket, kindSocket, viaPipeFIN},
		{kindSocket, kindPipe, viaPipeBulk},
		{kindSocket, kindFile, viaPipeBulk},
		{kindSocket, kindDevNull, viaPipeBulk},
		{kindSocket, kindOther, viaBufferWait},
		{kindPipe, kindSocket, viaPipeFIN},
		{kindPipe, kindPipe, viaPipe},
		{kindFile, kindSocket, viaPipeFIN},
		{kindFile, kindPipe, viaBuffer},
		{kindOther, kindSocket, viaBuffer},
	} {
		if got := routes[c.src][c.dst]; got != c.want {
			t.Errorf("route %d -> %d: %d, want %d", c.src, c.dst, got, c.want)
		}
	}
	if buffered(rawFD{kind: kindSocket}) != viaBufferWait || buffered(rawFD{kind: kindPipe}) != viaBuffer {
		t.Error("a socket's fallback must wait for it, a pipe's must not")
	}
}

// notOwn embeds a socket but says it is not ours.
type notOwn struct{ *net.TCPConn }

func (notOwn) OwnSocket() bool { return false }
