//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// udpServer is a test's UDP peer on a loopback port: it answers each
// datagram with reply(datagram) (nil: no answer) and records what it got.
type udpServer struct {
	c    *net.UDPConn
	port string
	mu   sync.Mutex
	got  [][]byte
	from []*net.UDPAddr
	more chan struct{}
}

func newUDPServer(t *testing.T, reply func([]byte) []byte) *udpServer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(8 << 20)
	s := &udpServer{c: c, port: strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port), more: make(chan struct{})}
	var wg sync.WaitGroup
	t.Cleanup(func() { c.Close(); wg.Wait() })
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.got = append(s.got, bytes.Clone(buf[:n]))
			s.from = append(s.from, from)
			close(s.more)
			s.more = make(chan struct{})
			s.mu.Unlock()
			if reply != nil {
				if r := reply(buf[:n]); r != nil {
					c.WriteToUDP(r, from)
				}
			}
		}
	})
	return s
}

func echo(p []byte) []byte { return p }

// waitDatagrams waits until the server has received n datagrams and
// returns them with their senders.
func (s *udpServer) waitDatagrams(t *testing.T, n int) ([][]byte, []*net.UDPAddr) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		got, from, more := s.got, s.from, s.more
		s.mu.Unlock()
		if len(got) >= n {
			return got, from
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("the UDP server got %d datagrams after 20s, want %d", len(got), n)
		}
	}
}

// udpRefusingPort is a loopback UDP port that answers every datagram
// with an ICMP port unreachable: the socket bound to it is connected to
// a peer that never sends, so the kernel finds no socket for anyone
// else, and nobody else can take the port meanwhile.
func udpRefusingPort(t *testing.T) string {
	t.Helper()
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
}

// udpClient is a test's UDP socket connected to 127.0.0.1:port.
func udpClient(t *testing.T, port string) *net.UDPConn {
	t.Helper()
	p, _ := strconv.Atoi(port)
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(8 << 20)
	t.Cleanup(func() { c.Close() })
	return c
}

// readDatagram reads one datagram, failing the test after 20s.
func readDatagram(t *testing.T, c *net.UDPConn) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("reading a datagram: %v", err)
	}
	return buf[:n]
}

// waitContains waits until stdout holds s.
func (b *lockedBuffer) waitContains(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		b.mu.Lock()
		ok, more := bytes.Contains(b.buf.Bytes(), []byte(s)), b.more
		b.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("stdout %q after 20s, want it to hold %q", b.bytes(), s)
		}
	}
}

// TestUDPRequestReply: -u sends each read of stdin as a datagram and
// prints each reply whole; stdin's end does not end the session (UDP has
// no end of file): a late reply still comes out, until a signal.
func TestUDPRequestReply(t *testing.T) {
	srv := newUDPServer(t, func(p []byte) []byte {
		if string(p) == "late\n" {
			return nil // answered below, after stdin has ended
		}
		return append([]byte("re: "), p...)
	})
	pr, pw := io.Pipe()
	out := newLockedBuffer()
	p := start(t, opts{stdin: pr, stdout: out}, "-u", "-v", "127.0.0.1", srv.port)
	p.waitLine(`^Connection to 127\.0\.0\.1 ` + srv.port + ` port \[udp/[^]]+\] succeeded!$`)
	io.WriteString(pw, "hello\n")
	out.waitContains(t, "re: hello\n")
	io.WriteString(pw, "late\n")
	_, from := srv.waitDatagrams(t, 2)
	pw.Close()
	if p.exited(200 * time.Millisecond) {
		t.Fatalf("gnc -u exited after stdin's end, with no -q: %s", p.stderr())
	}
	srv.c.WriteToUDP([]byte("late reply\n"), from[1])
	out.waitContains(t, "late reply\n")
	p.stop(syscall.SIGINT, 130)
}

// TestUDPQuit: -q bounds the wait after stdin's end; -q 0 and -w 0 leave
// right after sending, as nc -u -w0 does.
func TestUDPQuit(t *testing.T) {
	srv := newUDPServer(t, nil)
	for _, args := range [][]string{{"-q", "0.2"}, {"-q", "0"}, {"-w", "0"}, {"-w0"}} {
		t.Run(strings.Join(args, ""), func(t *testing.T) {
			before := len(func() [][]byte { srv.mu.Lock(); defer srv.mu.Unlock(); return srv.got }())
			t0 := time.Now()
			_, stderr, st := runGNC(t, opts{stdin: "cpu:1|c"}, append([]string{"-u"}, append(args, "127.0.0.1", srv.port)...)...)
			if st != 0 {
				t.Fatalf("exit %d: %s", st, stderr)
			}
			if d := time.Since(t0); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
			got, _ := srv.waitDatagrams(t, before+1)
			if string(got[before]) != "cpu:1|c" {
				t.Fatalf("server got %q", got[before])
			}
		})
	}
}

// TestUDPRefused: an ICMP port unreachable is one clear line and exit 1.
func TestUDPRefused(t *testing.T) {
	port := udpRefusingPort(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	p := start(t, opts{stdin: pr}, "-u", "127.0.0.1", port)
	io.WriteString(pw, "anybody there?\n")
	if st := p.wait(); st != 1 {
		t.Fatalf("exit %d, want 1: %s", st, p.stderr())
	}
	if want := "gnc: connect to 127.0.0.1 port " + port + " (udp) failed: connection refused"; p.stderr() != want {
		t.Fatalf("stderr %q, want %q", p.stderr(), want)
	}
}

// TestUDPDatagramSizes: each read of stdin (a file: reads of exactly the
// size asked) is one datagram of at most 65,507 bytes, and a received
// datagram of that size comes out whole.
func TestUDPDatagramSizes(t *testing.T) {
	const size = 3*65507 + 1234
	path, sum := randomFile(t, size, 7)
	srv := newUDPServer(t, nil)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := newLockedBuffer()
	p := start(t, opts{stdin: f, stdout: out}, "-u", "-v", "-q", "30", "127.0.0.1", srv.port)
	got, from := srv.waitDatagrams(t, 4)
	h := sha256.New()
	for i, d := range got {
		want := 65507
		if i == 3 {
			want = 1234
		}
		if len(d) != want {
			t.Fatalf("datagram %d has %d bytes, want %d", i, len(d), want)
		}
		h.Write(d)
	}
	if fmt.Sprintf("%x", h.Sum(nil)) != sum {
		t.Fatal("the datagrams do not carry stdin")
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 65507/16+1)[:65507]
	srv.c.WriteToUDP(big, from[0])
	out.waitLen(t, len(big))
	if !bytes.Equal(out.bytes(), big) {
		t.Fatalf("stdout got %d bytes, not the 65,507-byte datagram", len(out.bytes()))
	}
	p.stop(syscall.SIGTERM, 143)
}

// TestUDPListenFirstSender: -u -l takes the first sender for its peer, as
// nc.openbsd does: replies go to it, and nobody else is heard.
func TestUDPListenFirstSender(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	out := newLockedBuffer()
	l := start(t, opts{stdin: pr, stdout: out}, "-u", "-l", "-v", "127.0.0.1", "0")
	port := l.port()
	first := udpClient(t, port)
	first.Write([]byte("first\n"))
	l.waitLine(`^Connection received on 127\.0\.0\.1 ` + strconv.Itoa(first.LocalAddr().(*net.UDPAddr).Port) + `$`)
	out.waitContains(t, "first\n")
	io.WriteString(pw, "to the first\n")
	if got := readDatagram(t, first); string(got) != "to the first\n" {
		t.Fatalf("the first sender got %q", got)
	}
	other := udpClient(t, port)
	other.Write([]byte("intruder\n"))
	first.Write([]byte("again\n"))
	out.waitContains(t, "again\n")
	if strings.Contains(string(out.bytes()), "intruder") {
		t.Fatalf("another sender was heard: %q", out.bytes())
	}
	pw.Close() // stdin's end does not end it either
	first.Write([]byte("after eof\n"))
	out.waitContains(t, "after eof\n")
	l.stop(syscall.SIGTERM, 143)
}

// TestUDPListenKeep: -u -l -k serves three senders at once: all their
// datagrams reach stdout, each gets what stdin sends, and stdin's end does
// not end the sessions.
func TestUDPListenKeep(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	out := newLockedBuffer()
	l := start(t, opts{stdin: pr, stdout: out}, "-u", "-l", "-k", "-v", "127.0.0.1", "0")
	port := l.port()
	clients := make([]*net.UDPConn, 3)
	for i := range clients {
		clients[i] = udpClient(t, port)
		fmt.Fprintf(clients[i], "from %d\n", i)
	}
	l.waitLines(`^Connection received on 127\.0\.0\.1 \d+$`, 3)
	for i := range clients {
		out.waitContains(t, fmt.Sprintf("from %d\n", i))
	}
	io.WriteString(pw, "to everyone\n")
	for i, c := range clients {
		if got := readDatagram(t, c); string(got) != "to everyone\n" {
			t.Fatalf("client %d got %q", i, got)
		}
	}
	pw.Close()
	for i, c := range clients {
		fmt.Fprintf(c, "after eof %d\n", i)
	}
	for i := range clients {
		out.waitContains(t, fmt.Sprintf("after eof %d\n", i))
	}
	if strings.Count(l.stderr(), "Connection received") != 3 {
		t.Fatalf("more than one session per sender: %s", l.stderr())
	}
	l.stop(syscall.SIGTERM, 143)
}

// TestUDPSessionExpiry: a -k session ends after -i without a datagram,
// with a -v line, and its sender's next datagram makes a new session.
func TestUDPSessionExpiry(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	out := newLockedBuffer()
	l := start(t, opts{stdin: pr, stdout: out}, "-u", "-l", "-k", "-v", "-i", "300ms", "127.0.0.1", "0")
	c := udpClient(t, l.port())
	c.Write([]byte("one\n"))
	l.waitLine(`^Connection received on `)
	l.waitLine(`^gnc: session with 127\.0\.0\.1:\d+ closed after 0\.[0-9]+s: idle timeout$`)
	c.Write([]byte("two\n"))
	l.waitLines(`^Connection received on `, 2)
	out.waitContains(t, "one\ntwo\n")
	l.stop(syscall.SIGTERM, 143)
}

// TestUDPMaxSessions: with -m 1 a second sender is dropped, said once.
func TestUDPMaxSessions(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	out := newLockedBuffer()
	l := start(t, opts{stdin: pr, stdout: out}, "-u", "-l", "-k", "-m", "1", "-v", "127.0.0.1", "0")
	port := l.port()
	a, b := udpClient(t, port), udpClient(t, port)
	a.Write([]byte("a\n"))
	l.waitLine(`^Connection received on `)
	for range 3 {
		b.Write([]byte("b\n"))
	}
	a.Write([]byte("a2\n"))
	out.waitContains(t, "a\na2\n")
	l.waitLine(`^gnc: dropping datagrams from 127\.0\.0\.1:` + strconv.Itoa(b.LocalAddr().(*net.UDPAddr).Port) + `: 1 sessions open, the most -m allows$`)
	if n := strings.Count(l.stderr(), "dropping"); n != 1 {
		t.Fatalf("%d drop lines, want 1: %s", n, l.stderr())
	}
	if strings.Contains(string(out.bytes()), "b") {
		t.Fatalf("the dropped sender was heard: %q", out.bytes())
	}
	l.stop(syscall.SIGTERM, 143)
}

// TestUDPSummary: -vv counts datagrams and bytes each way.
func TestUDPSummary(t *testing.T) {
	srv := newUDPServer(t, echo)
	pr, pw := io.Pipe()
	out := newLockedBuffer()
	p := start(t, opts{stdin: pr, stdout: out}, "-u", "-vv", "-q", "0.3", "127.0.0.1", srv.port)
	io.WriteString(pw, "12345\n")
	out.waitContains(t, "12345\n")
	io.WriteString(pw, "abc\n")
	out.waitContains(t, "abc\n")
	pw.Close()
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
	p.waitLine(`^sent 2 datagrams \(10 bytes\), received 2 datagrams \(10 bytes\) in `)
}

// TestUDPScan: -z -u reports a refusing port closed and a silent one
// open|filtered; exit 0 when any port is not closed, 1 when all are.
func TestUDPScan(t *testing.T) {
	refusing := udpRefusingPort(t)
	silent := newUDPServer(t, nil)
	_, stderr, st := runGNC(t, opts{}, "-zu", "-vv", "-w", "300ms", "127.0.0.1", refusing, silent.port)
	if st != 0 {
		t.Fatalf("exit %d: %s", st, stderr)
	}
	if !strings.Contains(stderr, "Connection to 127.0.0.1 "+silent.port+" port [udp/") || !strings.Contains(stderr, "] open|filtered") {
		t.Fatalf("no open|filtered line for the silent port: %s", stderr)
	}
	if !strings.Contains(stderr, "gnc: connect to 127.0.0.1 port "+refusing+" (udp) failed: connection refused") {
		t.Fatalf("no -vv line for the refusing port: %s", stderr)
	}
	_, stderr, st = runGNC(t, opts{}, "-zu", "-v", "-w", "300ms", "127.0.0.1", refusing)
	if st != 1 || stderr != "" {
		t.Fatalf("all closed: exit %d, stderr %q; want 1 and nothing at -v", st, stderr)
	}
}

// startUDPRelay runs gnc relay -vv with a udp-listen: FROM and returns its
// port.
func startUDPRelay(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, opts{}, append([]string{"relay", "-vv"}, args...)...)
	t.Cleanup(func() {
		if !p.exited(0) {
			p.signal(syscall.SIGTERM)
			p.wait()
		}
	})
	return p, p.waitLine(`listening on \S+:(\d+) `)[1]
}

// TestUDPForwarder: udp-listen: to udp: keeps every datagram's boundary
// both ways: 1,000 datagrams of sizes from 0 to 65,507 bytes, each
// checked as the echo server got it and as it came back.
func TestUDPForwarder(t *testing.T) {
	srv := newUDPServer(t, echo)
	r, port := startUDPRelay(t, "udp-listen:127.0.0.1:0", "udp:127.0.0.1:"+srv.port)
	c := udpClient(t, port)
	const n = 1000
	total := 0
	for i := range n {
		size := i * 7919 % 65508
		if i == 1 {
			size = 65507
		}
		want := bytes.Repeat([]byte{byte(i)}, size)
		if _, err := c.Write(want); err != nil {
			t.Fatal(err)
		}
		got := readDatagram(t, c)
		if !bytes.Equal(got, want) {
			t.Fatalf("datagram %d: %d bytes came back, want %d", i, len(got), size)
		}
		total += size
	}
	gotAll, _ := srv.waitDatagrams(t, n)
	for i, d := range gotAll {
		if size := i * 7919 % 65508; len(d) != size && !(i == 1 && len(d) == 65507) {
			t.Fatalf("the server got datagram %d with %d bytes, want %d", i, len(d), size)
		}
	}
	r.signal(syscall.SIGTERM)
	r.wait()
	r.waitLine(fmt.Sprintf(`#1 closed 127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:%s after \S+, %d datagrams \(%d bytes\) >, %d datagrams \(%d bytes\) <, `, srv.port, n, total, n, total))
}

// TestUDPForwarderSessions: each client of the forwarder has its own
// socket towards the server, and its replies come back to it alone;
// --deny drops a client, said once.
func TestUDPForwarderSessions(t *testing.T) {
	srv := newUDPServer(t, func(p []byte) []byte { return p })
	_, port := startUDPRelay(t, "udp-listen:127.0.0.1:0", "udp:127.0.0.1:"+srv.port)
	clients := []*net.UDPConn{udpClient(t, port), udpClient(t, port), udpClient(t, port)}
	for round := range 3 {
		for i, c := range clients {
			fmt.Fprintf(c, "client %d round %d", i, round)
		}
		for i, c := range clients {
			if got, want := string(readDatagram(t, c)), fmt.Sprintf("client %d round %d", i, round); got != want {
				t.Fatalf("client %d got %q, want %q", i, got, want)
			}
		}
	}
	_, from := srv.waitDatagrams(t, 9)
	seen := map[string]bool{}
	for _, a := range from {
		seen[a.String()] = true
	}
	if len(seen) != 3 {
		t.Fatalf("the server saw %d sources, want one per client: %v", len(seen), seen)
	}

	d, dport := startUDPRelay(t, "--deny", "127.0.0.1/32", "udp-listen:127.0.0.1:0", "udp:127.0.0.1:"+srv.port)
	denied := udpClient(t, dport)
	for range 3 {
		denied.Write([]byte("let me in"))
	}
	d.waitLine(`dropping datagrams from 127\.0\.0\.1:\d+: 127\.0\.0\.1 matches deny rule 127\.0\.0\.1/32$`)
	if d.exited(100*time.Millisecond) || strings.Count(d.stderr(), "dropping") != 1 || strings.Contains(d.stderr(), "accepted") {
		t.Fatalf("want one drop line and no session: %s", d.stderr())
	}
}

// TestUDPMixed: a stream and a datagram side: each datagram becomes a
// write to the stream, each read of the stream a datagram.
func TestUDPMixed(t *testing.T) {
	t.Run("tcp to udp", func(t *testing.T) {
		srv := newUDPServer(t, func(p []byte) []byte { return append([]byte("re: "), p...) })
		_, port := startRelay(t, "listen:127.0.0.1:0", "udp:127.0.0.1:"+srv.port)
		c := dial(t, port)
		c.Write([]byte("hello"))
		buf := make([]byte, 100)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, err := io.ReadAtLeast(c, buf, len("re: hello"))
		if err != nil || string(buf[:n]) != "re: hello" {
			t.Fatalf("TCP client read %q, %v", buf[:n], err)
		}
	})
	t.Run("udp to tcp", func(t *testing.T) {
		e := newEchoServer(t)
		_, port := startUDPRelay(t, "udp-listen:127.0.0.1:0", "127.0.0.1:"+e.port)
		c := udpClient(t, port)
		c.Write([]byte("datagram one"))
		if got := readDatagram(t, c); string(got) != "datagram one" {
			t.Fatalf("got %q", got)
		}
	})
}

// TestUDPHexdump: one block per datagram, with its length and (for a
// relay, which serves many) its peers.
func TestUDPHexdump(t *testing.T) {
	srv := newUDPServer(t, echo)
	r := start(t, opts{}, "relay", "-v", "-x", "udp-listen:127.0.0.1:0", "udp:127.0.0.1:"+srv.port)
	port := r.waitLine(`listening on \S+:(\d+) `)[1]
	c := udpClient(t, port)
	for _, n := range []int{3, 100, 20000} {
		c.Write(bytes.Repeat([]byte("x"), n))
		readDatagram(t, c)
	}
	for _, n := range []int{3, 100, 20000} {
		r.waitLine(fmt.Sprintf(`^> \S+ \S+ #1 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:%s len=%d$`, srv.port, n))
		r.waitLine(fmt.Sprintf(`^< \S+ \S+ #1 127\.0\.0\.1:%s -> 127\.0\.0\.1:\d+ len=%d$`, srv.port, n))
	}
	r.stop(syscall.SIGTERM, 0)
	if got := len(regexp.MustCompile(`(?m)^> \S+ \S+ #1 .* len=`).FindAllString(r.stderr(), -1)); got != 3 {
		t.Fatalf("%d '>' blocks, want one per datagram:\n%s", got, r.stderr())
	}
}

// The peers below are the ones users pair gnc with; each test skips when
// its peer is not installed.

func needPeer(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed", name)
	}
	return p
}

// peerProc runs a peer with args, killed at the end of the test.
func peerProc(t *testing.T, stdin io.Reader, stdout io.Writer, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout = stdin, stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// udpPeer starts a peer that binds a UDP port of its own (peers cannot
// say which port they chose, so it is one below 32768, outside the
// ephemeral range, tried again elsewhere if taken) and returns the port
// once the peer has bound it.
func udpPeer(t *testing.T, stdin io.Reader, stdout io.Writer, name string, args func(port string) []string) string {
	t.Helper()
	for range 10 {
		port := strconv.Itoa(20000 + rand.IntN(12000))
		cmd := exec.Command(name, args(port)...)
		cmd.Stdin, cmd.Stdout = stdin, stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-exited })
		deadline := time.Now().Add(10 * time.Second)
		for !udpBound(port) {
			select {
			case <-exited:
			case <-time.After(2 * time.Millisecond): // polling the kernel's table
				if time.Now().Before(deadline) {
					continue
				}
				t.Fatalf("%s did not bind port %s within 10s", name, port)
			}
			break
		}
		if udpBound(port) {
			return port
		}
	}
	t.Fatalf("%s could bind none of the ports tried", name)
	return ""
}

// udpBound reports whether a UDP socket is bound to port, as
// /proc/net/udp lists them.
func udpBound(port string) bool {
	p, _ := strconv.Atoi(port)
	want := fmt.Sprintf(":%04X ", p)
	for _, f := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Fields(line)
			if len(fields) > 2 && strings.HasSuffix(fields[1]+" ", want) {
				return true
			}
		}
	}
	return false
}

// TestUDPInteropNcOpenBSD: gnc -u -l with nc.openbsd -u as the client,
// and gnc -u as the client of nc.openbsd -u -l.
func TestUDPInteropNcOpenBSD(t *testing.T) {
	nc := needPeer(t, "nc.openbsd")
	t.Run("gnc listens", func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		out := newLockedBuffer()
		l := start(t, opts{stdin: pr, stdout: out}, "-u", "-l", "-v", "127.0.0.1", "0")
		port := l.port()
		ncIn, ncInW := io.Pipe()
		defer ncInW.Close()
		ncOut := newLockedBuffer()
		peerProc(t, ncIn, ncOut, nc, "-u", "127.0.0.1", port)
		io.WriteString(ncInW, "from nc\n")
		out.waitContains(t, "from nc\n")
		io.WriteString(pw, "from gnc\n")
		ncOut.waitContains(t, "from gnc\n")
		l.stop(syscall.SIGTERM, 143)
	})
	t.Run("gnc connects", func(t *testing.T) {
		ncIn, ncInW := io.Pipe()
		defer ncInW.Close()
		ncOut := newLockedBuffer()
		port := udpPeer(t, ncIn, ncOut, nc, func(port string) []string { return []string{"-u", "-l", "127.0.0.1", port} })
		pr, pw := io.Pipe()
		defer pw.Close()
		out := newLockedBuffer()
		p := start(t, opts{stdin: pr, stdout: out}, "-u", "127.0.0.1", port)
		io.WriteString(pw, "from gnc\n")
		ncOut.waitContains(t, "from gnc\n")
		io.WriteString(ncInW, "from nc\n")
		out.waitContains(t, "from nc\n")
		p.stop(syscall.SIGTERM, 143)
	})
}

// TestUDPInteropSocat: gnc -u against socat's UDP echo, and socat as the
// client of gnc's forwarder.
func TestUDPInteropSocat(t *testing.T) {
	socat := needPeer(t, "socat")
	port := udpPeer(t, nil, io.Discard, socat, func(port string) []string {
		return []string{"UDP-RECVFROM:" + port + ",bind=127.0.0.1,fork", "PIPE"}
	})
	pr, pw := io.Pipe()
	defer pw.Close()
	out := newLockedBuffer()
	p := start(t, opts{stdin: pr, stdout: out}, "-u", "127.0.0.1", port)
	io.WriteString(pw, "ping\n")
	out.waitContains(t, "ping\n")
	p.stop(syscall.SIGTERM, 143)

	echoSrv := newUDPServer(t, echo)
	_, rport := startUDPRelay(t, "udp-listen:127.0.0.1:0", "udp:127.0.0.1:"+echoSrv.port)
	sOut := newLockedBuffer()
	peerProc(t, strings.NewReader("through gnc\n"), sOut, socat, "-t", "5", "-", "UDP:127.0.0.1:"+rport)
	sOut.waitContains(t, "through gnc\n")
}
