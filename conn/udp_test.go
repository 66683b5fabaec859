package conn_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gnc/conn"
)

// sessionListener binds a session listener on a loopback port.
func sessionListener(t *testing.T) (*conn.UDPListener, *net.UDPAddr) {
	t.Helper()
	l, err := conn.ListenUDP(context.Background(), "127.0.0.1", "0", conn.TCPOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, l.Addr().(*net.UDPAddr)
}

// udpClient is a test's UDP socket connected to addr.
func udpClient(t *testing.T, addr *net.UDPAddr) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// openWithin opens the listener's next session, failing the test after d.
func openWithin(t *testing.T, l *conn.UDPListener, d time.Duration) io.ReadWriteCloser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	s, err := l.Open(ctx)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// noSession checks that no session is ready within d.
func noSession(t *testing.T, l *conn.UDPListener, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if s, err := l.Open(ctx); err == nil {
		s.Close()
		t.Fatalf("a session for %v, want none", s.(interface{ RemoteAddr() net.Addr }).RemoteAddr())
	}
}

func readString(t *testing.T, r io.Reader) string {
	t.Helper()
	buf := make([]byte, 65536)
	type res struct {
		n   int
		err error
	}
	ch := make(chan res, 1)
	go func() { n, err := r.Read(buf); ch <- res{n, err} }()
	select {
	case x := <-ch:
		if x.err != nil {
			t.Fatalf("Read: %v", x.err)
		}
		return string(buf[:x.n])
	case <-time.After(10 * time.Second):
		t.Fatal("no datagram within 10s")
	}
	return ""
}

func remoteOf(c any) string { return c.(interface{ RemoteAddr() net.Addr }).RemoteAddr().String() }

// TestUDPSessions: three senders get a session each, whose Read returns
// their datagrams alone, in order, and whose Write reaches them alone.
func TestUDPSessions(t *testing.T) {
	l, addr := sessionListener(t)
	clients := make([]*net.UDPConn, 3)
	sessions := map[string]io.ReadWriteCloser{}
	for i := range clients {
		clients[i] = udpClient(t, addr)
		fmt.Fprintf(clients[i], "hello %d", i)
		s := openWithin(t, l, 10*time.Second)
		if got, want := remoteOf(s), clients[i].LocalAddr().String(); got != want {
			t.Fatalf("session %d is for %s, want %s", i, got, want)
		}
		if got := readString(t, s); got != fmt.Sprintf("hello %d", i) {
			t.Fatalf("session %d read %q", i, got)
		}
		sessions[clients[i].LocalAddr().String()] = s
	}
	for i, c := range clients {
		fmt.Fprintf(c, "again %d", i)
	}
	for i, c := range clients {
		s := sessions[c.LocalAddr().String()]
		if got := readString(t, s); got != fmt.Sprintf("again %d", i) {
			t.Fatalf("session %d read %q", i, got)
		}
		fmt.Fprintf(s, "reply %d", i)
	}
	for i, c := range clients {
		if got := readString(t, deadlined{c}); got != fmt.Sprintf("reply %d", i) {
			t.Fatalf("client %d got %q", i, got)
		}
	}
	noSession(t, l, 50*time.Millisecond)
	if _, ok := sessions[clients[0].LocalAddr().String()].(interface{ MaxDatagram() int }); !ok {
		t.Fatal("a session is not a relay.Datagram")
	}
}

// deadlined bounds a test client's reads.
type deadlined struct{ *net.UDPConn }

func (d deadlined) Read(p []byte) (int, error) {
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	return d.UDPConn.Read(p)
}

// TestUDPSessionClosed: once a session is closed, its sender's next
// datagram makes a new one, and a Read in progress returns.
func TestUDPSessionClosed(t *testing.T) {
	l, addr := sessionListener(t)
	c := udpClient(t, addr)
	c.Write([]byte("1"))
	s := openWithin(t, l, 10*time.Second)
	readString(t, s)
	readErr := make(chan error, 1)
	go func() { _, err := s.Read(make([]byte, 10)); readErr <- err }()
	s.Close()
	select {
	case err := <-readErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a Read in progress")
	}
	c.Write([]byte("2"))
	s2 := openWithin(t, l, 10*time.Second)
	if got := readString(t, s2); got != "2" {
		t.Fatalf("new session read %q", got)
	}
}

// dropLog collects what a listener's OnDrop is told.
type dropLog struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{}
}

func newDropLog() *dropLog { return &dropLog{more: make(chan struct{}, 100)} }

func (d *dropLog) drop(from net.Addr, reason string) {
	d.mu.Lock()
	d.lines = append(d.lines, from.String()+": "+reason)
	d.mu.Unlock()
	d.more <- struct{}{}
}

func (d *dropLog) wait(t *testing.T, n int) []string {
	t.Helper()
	for {
		d.mu.Lock()
		lines := append([]string(nil), d.lines...)
		d.mu.Unlock()
		if len(lines) >= n {
			return lines
		}
		select {
		case <-d.more:
		case <-time.After(10 * time.Second):
			t.Fatalf("OnDrop told %q, want %d lines", lines, n)
		}
	}
}

// TestUDPMaxSessions: beyond MaxSessions a new sender's datagrams are
// dropped, said once however many it sends, and counted; once a session
// closes, the sender is served.
func TestUDPMaxSessions(t *testing.T) {
	l, addr := sessionListener(t)
	log := newDropLog()
	l.MaxSessions, l.OnDrop = 2, log.drop
	a, b, extra := udpClient(t, addr), udpClient(t, addr), udpClient(t, addr)
	a.Write([]byte("a"))
	sa := openWithin(t, l, 10*time.Second)
	b.Write([]byte("b"))
	openWithin(t, l, 10*time.Second)
	for range 5 {
		extra.Write([]byte("x"))
	}
	// A datagram from a after the extra ones: once it is read, the extra
	// ones have all been dispatched.
	a.Write([]byte("a2"))
	readString(t, sa)
	if got := readString(t, sa); got != "a2" {
		t.Fatalf("read %q", got)
	}
	lines := log.wait(t, 1)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], extra.LocalAddr().String()+": ") || !strings.Contains(lines[0], "-m") {
		t.Fatalf("OnDrop told %q, want one line for %v naming -m", lines, extra.LocalAddr())
	}
	if st := l.Stats(); st.Bound != 5 {
		t.Fatalf("Stats().Bound = %d, want 5", st.Bound)
	}
	noSession(t, l, 50*time.Millisecond)
	sa.Close()
	extra.Write([]byte("now"))
	s := openWithin(t, l, 10*time.Second)
	if remoteOf(s) != extra.LocalAddr().String() || readString(t, s) != "now" {
		t.Fatal("the dropped sender was not served once a session closed")
	}
}

// TestUDPAdmit: a sender Admit refuses gets no session; its datagrams are
// dropped, said once, and Admit is not asked again for it.
func TestUDPAdmit(t *testing.T) {
	l, addr := sessionListener(t)
	log := newDropLog()
	bad := udpClient(t, addr)
	var mu sync.Mutex
	asked := 0
	l.Admit = func(a net.Addr) error {
		if a.String() == bad.LocalAddr().String() {
			mu.Lock()
			asked++
			mu.Unlock()
			return errors.New("matches deny rule 127.0.0.1/32")
		}
		return nil
	}
	l.OnDrop = log.drop
	good := udpClient(t, addr)
	for range 3 {
		bad.Write([]byte("no"))
	}
	good.Write([]byte("yes"))
	s := openWithin(t, l, 10*time.Second)
	if remoteOf(s) != good.LocalAddr().String() || readString(t, s) != "yes" {
		t.Fatal("the admitted sender was not served first")
	}
	lines := log.wait(t, 1)
	if len(lines) != 1 || !strings.Contains(lines[0], "deny rule") {
		t.Fatalf("OnDrop told %q", lines)
	}
	mu.Lock()
	defer mu.Unlock()
	if asked != 1 {
		t.Fatalf("Admit asked %d times about the refused sender, want 1", asked)
	}
	if st := l.Stats(); st.Refused != 3 {
		t.Fatalf("Stats().Refused = %d, want 3", st.Refused)
	}
}

// TestUDPListenerCloseKeepsSessions: closing the listener makes no more
// sessions, but an open session still receives and replies; the socket
// closes with it.
func TestUDPListenerCloseKeepsSessions(t *testing.T) {
	l, addr := sessionListener(t)
	c := udpClient(t, addr)
	c.Write([]byte("1"))
	s := openWithin(t, l, 10*time.Second)
	readString(t, s)
	l.Close()
	other := udpClient(t, addr)
	other.Write([]byte("late"))
	c.Write([]byte("2"))
	if got := readString(t, s); got != "2" {
		t.Fatalf("read %q after the listener closed", got)
	}
	s.Write([]byte("still here"))
	if got := readString(t, deadlined{c}); got != "still here" {
		t.Fatalf("client read %q", got)
	}
	if _, err := l.Open(context.Background()); err == nil {
		t.Fatal("Open succeeded on a closed listener")
	}
	s.Close()
	// The socket is closed now: nothing is bound there.
	c.Write([]byte("3"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNREFUSED) && !isTimeout(err) {
		t.Fatalf("after the last session: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestUDPSingle: a single-sender listener's first sender becomes the
// peer, on the socket itself, connected to it: the first datagram comes
// first, replies go to it, and others are not heard.
func TestUDPSingle(t *testing.T) {
	l, err := conn.ListenUDP(context.Background(), "127.0.0.1", "0", conn.TCPOptions{}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().(*net.UDPAddr)
	first, other := udpClient(t, addr), udpClient(t, addr)
	first.Write([]byte("first"))
	p := openWithin(t, l, 10*time.Second)
	if remoteOf(p) != first.LocalAddr().String() {
		t.Fatalf("peer %s, want %s", remoteOf(p), first.LocalAddr())
	}
	l.Close() // as the server does after its one accept: p keeps the socket
	if got := readString(t, p); got != "first" {
		t.Fatalf("read %q", got)
	}
	other.Write([]byte("intruder"))
	first.Write([]byte("second"))
	if got := readString(t, p); got != "second" {
		t.Fatalf("read %q, want the peer's datagram only", got)
	}
	p.Write([]byte("reply"))
	if got := readString(t, deadlined{first}); got != "reply" {
		t.Fatalf("peer got %q", got)
	}
}

// refusingUDPPort is a loopback UDP port that refuses datagrams from anybody
// but a peer that never sends: a socket bound to it is connected
// elsewhere, so the kernel answers others with ICMP port unreachable,
// and nobody else can take the port while the test uses it.
func refusingUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.LocalAddr().(*net.UDPAddr).Port
}

// TestUDPRefused: a refused datagram fails the next call with nc's line.
func TestUDPRefused(t *testing.T) {
	port := refusingUDPPort(t)
	d, err := conn.NewUDPDialer("127.0.0.1", fmt.Sprint(port), conn.TCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("anyone?"))
	c.(interface{ SetReadDeadline(time.Time) error }).SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 100))
	var de *conn.DialError
	if !errors.As(err, &de) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Read: %v (%T), want a *conn.DialError for ECONNREFUSED", err, err)
	}
	if want := fmt.Sprintf("connect to 127.0.0.1 port %d (udp) failed: connection refused", port); de.Error() != want {
		t.Fatalf("error %q, want %q", de.Error(), want)
	}
}

// TestScanUDP: a refusing port is closed, a silent one open|filtered, one
// that answers open.
func TestScanUDP(t *testing.T) {
	refusing := refusingUDPPort(t)
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	echo, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 100)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			echo.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	ports := []int{refusing, silent.LocalAddr().(*net.UDPAddr).Port, echo.LocalAddr().(*net.UDPAddr).Port}
	want := map[int]conn.UDPScanState{ports[0]: conn.UDPClosed, ports[1]: conn.UDPOpenFiltered, ports[2]: conn.UDPOpen}
	d := &conn.UDPDialer{Host: "127.0.0.1"}
	var got []conn.UDPScanResult
	n, err := conn.ScanUDP(context.Background(), d, ports, 8, 300*time.Millisecond, func(r conn.UDPScanResult) { got = append(got, r) })
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || len(got) != 3 {
		t.Fatalf("ScanUDP = %d not closed, %d results; want 2 and 3", n, len(got))
	}
	for _, r := range got {
		if r.State != want[r.Port] {
			t.Errorf("port %d: state %d (%v), want %d", r.Port, r.State, r.Err, want[r.Port])
		}
	}
}

// TestParseUDPTarget: a UDP service name is a port, with the shapes of
// ParseTarget.
func TestParseUDPTarget(t *testing.T) {
	for _, tt := range []struct {
		args       []string
		host, port string
		bad        bool
	}{
		{args: []string{"host", "53"}, host: "host", port: "53"},
		{args: []string{"host:53"}, host: "host", port: "53"},
		{args: []string{"[::1]:53"}, host: "::1", port: "53"},
		{args: []string{"::1", "53"}, host: "::1", port: "53"},
		{args: []string{"host"}, bad: true},
		{args: []string{"host:1", "2"}, bad: true},
		{args: []string{"host", "99999"}, bad: true},
		{args: []string{}, bad: true},
		{args: []string{"a", "b", "c"}, bad: true},
	} {
		h, p, err := conn.ParseUDPTarget(tt.args)
		if tt.bad {
			var pe *conn.ParseError
			if !errors.As(err, &pe) {
				t.Errorf("ParseUDPTarget(%q) = %q %q %v, want a ParseError", tt.args, h, p, err)
			}
			continue
		}
		if err != nil || h != tt.host || p != tt.port {
			t.Errorf("ParseUDPTarget(%q) = %q %q %v, want %q %q", tt.args, h, p, err, tt.host, tt.port)
		}
	}
}
