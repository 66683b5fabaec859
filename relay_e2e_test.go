//go:build linux

package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startRelay runs `gnc relay -v ARGS...` and returns it with the port of
// its first listening endpoint (from its "listening on" log line).
func startRelay(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, opts{}, append([]string{"relay", "-v"}, args...)...)
	t.Cleanup(func() {
		if !p.exited(0) {
			p.signal(syscall.SIGTERM)
			p.wait()
		}
	})
	m := p.waitLine(`listening on \S+:(\d+) `)
	return p, m[1]
}

// echoServer serves every connection on a loopback port by echoing it and
// half-closing after end of file; it counts the connections it got.
type echoServer struct {
	port  string
	mu    sync.Mutex
	conns int
}

func newEchoServer(t *testing.T) *echoServer {
	l, port := listen(t)
	e := &echoServer{port: port}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.conns++
			e.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(60 * time.Second))
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return e
}

func (e *echoServer) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conns
}

// roundTrip sends size random bytes through addr to an echo server, both
// ways at once, and checks the echo with SHA-256.
func roundTrip(t *testing.T, addr string, size int64, seed uint64) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	sent := make(chan string, 1)
	go func() {
		h := sha256.New()
		io.Copy(io.MultiWriter(c, h), io.LimitReader(rand.NewChaCha8([32]byte{byte(seed)}), size))
		c.(*net.TCPConn).CloseWrite()
		sent <- hex.EncodeToString(h.Sum(nil))
	}()
	h := sha256.New()
	n, err := io.Copy(h, c)
	if err != nil || n != size {
		t.Fatalf("echo: got %d bytes, %v; want %d", n, err, size)
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), <-sent; got != want {
		t.Fatalf("echo corrupted: %s, want %s", got, want)
	}
}

// TestRelayIntegrity: 64 MiB both ways through one relay and through a
// chain of three, every byte checked.
func TestRelayIntegrity(t *testing.T) {
	echo := newEchoServer(t)
	to := "127.0.0.1:" + echo.port
	var first string
	for i := range 3 {
		_, port := startRelay(t, "listen:127.0.0.1:0", to)
		to, first = "127.0.0.1:"+port, port
		if i == 0 {
			roundTrip(t, to, bigSize, 7) // one relay
		}
	}
	roundTrip(t, "127.0.0.1:"+first, bigSize, 8) // a chain of three
}

// TestRelayHalfClose: request, half-close, late reply, all through the
// relay.
func TestRelayHalfClose(t *testing.T) {
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) {
		req, _ := io.ReadAll(c)
		time.Sleep(300 * time.Millisecond) // a slow server
		c.Write([]byte("reply to " + string(req)))
	})
	_, rport := startRelay(t, "listen:127.0.0.1:0", "127.0.0.1:"+port)
	out, stderr, st := runGNC(t, opts{stdin: "question"}, "127.0.0.1", rport)
	if st != 0 || out != "reply to question" {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
}

// TestRelayManyClients: a listening FROM serves clients concurrently, and
// logs one line when each pairing opens and one when it closes.
func TestRelayManyClients(t *testing.T) {
	echo := newEchoServer(t)
	p, port := startRelay(t, "listen:127.0.0.1:0", "127.0.0.1:"+echo.port)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			roundTrip(t, "127.0.0.1:"+port, 256<<10, uint64(i))
		}()
	}
	wg.Wait()
	p.waitLines(`#\d+ closed 127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:`+echo.port+` after \d+\.\d+s, 262144 bytes >, 262144 bytes <, eof$`, 20)
	p.signal(syscall.SIGTERM)
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d after SIGTERM: %s", st, p.stderr())
	}
}

// TestRelayStdio: `gnc relay - host:port` behaves like `gnc host port`.
func TestRelayStdio(t *testing.T) {
	echo := newEchoServer(t)
	out, stderr, st := runGNC(t, opts{stdin: "via stdio\n"}, "relay", "-", "127.0.0.1:"+echo.port)
	if st != 0 || out != "via stdio\n" || stderr != "" {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
	// stdio to a listener: one client, like gnc -l.
	p := start(t, opts{stdin: "hello client\n"}, "relay", "-v", "stdio", "listen:127.0.0.1:0")
	port := p.waitLine(`listening on \S+:(\d+) `)[1]
	c := dial(t, port)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "hello client\n" {
		t.Fatalf("client got %q", got)
	}
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
}

// TestRelayRendezvous: listen to listen pairs the first client of each
// side; with -k it keeps pairing in arrival order.
func TestRelayRendezvous(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint("keep=", keep), func(t *testing.T) {
			args := []string{"relay", "-v", "listen:127.0.0.1:0", "listen:127.0.0.1:0"}
			if keep {
				args = append(args, "-k")
			}
			p := start(t, opts{}, args...)
			ports := p.waitLines(`listening on \S+:(\d+) `, 2)
			pa, pb := ports[0][1], ports[1][1]
			rounds := 1
			if keep {
				rounds = 3
			}
			for i := range rounds {
				ca := dial(t, pa)
				cb := dial(t, pb)
				ca.SetDeadline(time.Now().Add(20 * time.Second))
				cb.SetDeadline(time.Now().Add(20 * time.Second))
				fmt.Fprintf(ca, "from a %d", i)
				ca.CloseWrite()
				got, _ := io.ReadAll(cb)
				fmt.Fprintf(cb, "from b %d", i)
				cb.Close()
				back, _ := io.ReadAll(ca)
				ca.Close()
				if string(got) != fmt.Sprintf("from a %d", i) || string(back) != fmt.Sprintf("from b %d", i) {
					t.Fatalf("round %d: b got %q, a got %q", i, got, back)
				}
			}
			if !keep {
				if st := p.wait(); st != 0 {
					t.Fatalf("exit %d: %s", st, p.stderr())
				}
				return
			}
			p.signal(syscall.SIGTERM)
			if st := p.wait(); st != 0 {
				t.Fatalf("exit %d: %s", st, p.stderr())
			}
		})
	}
}

// TestRelayReconnect: connect to connect with -k reconnects each time the
// pairing ends, with a log line per attempt, and backs off while the far
// side is down.
func TestRelayReconnect(t *testing.T) {
	gw, gwPort := listen(t)
	echo := newEchoServer(t)
	p := start(t, opts{}, "relay", "-k", "-v", "127.0.0.1:"+gwPort, "127.0.0.1:"+echo.port)
	for i := range 3 {
		c, err := gw.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		msg := fmt.Sprintf("session %d", i)
		c.Write([]byte(msg))
		c.(*net.TCPConn).CloseWrite()
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != msg {
			t.Fatalf("session %d: echo %q", i, got)
		}
	}
	p.signal(syscall.SIGTERM)
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}

	// The gateway is down: attempts are logged and spaced out.
	closed := closedPort(t)
	p = start(t, opts{}, "relay", "-k", "-v", "127.0.0.1:"+closed, "127.0.0.1:"+echo.port)
	t0 := time.Now()
	p.waitLines(`connect to 127\.0\.0\.1 port `+closed+` \(tcp\) failed: connection refused; retrying in \S+ \(attempt \d+\)$`, 3)
	if d := time.Since(t0); d < 250*time.Millisecond+500*time.Millisecond {
		t.Fatalf("three attempts in %v: no back-off", d)
	}
	p.stop(syscall.SIGTERM, 0)
}

// TestRelayUnreachable: when TO cannot be reached the client is closed at
// once, -v says why, and the relay goes on serving.
func TestRelayUnreachable(t *testing.T) {
	closed := closedPort(t)
	p, port := startRelay(t, "listen:127.0.0.1:0", "127.0.0.1:"+closed)
	for range 2 {
		c := dial(t, port)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("client read %d, %v; want end of file", n, err)
		}
		c.Close()
	}
	p.waitLines(`#\d+ closed: connect to 127\.0\.0\.1 port `+closed+` \(tcp\) failed: connection refused$`, 2)
	p.signal(syscall.SIGINT)
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d", st)
	}
}

// TestRelayMaxConns: with -m 1 a second client waits in the backlog until
// the first pairing ends.
func TestRelayMaxConns(t *testing.T) {
	echo := newEchoServer(t)
	p, port := startRelay(t, "-m", "1", "listen:127.0.0.1:0", "127.0.0.1:"+echo.port)
	first := dial(t, port)
	first.SetDeadline(time.Now().Add(20 * time.Second))
	first.Write([]byte("1"))
	io.ReadFull(first, make([]byte, 1))
	second := dial(t, port)
	second.Write([]byte("2"))
	second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _ := second.Read(make([]byte, 1)); n != 0 {
		t.Fatal("second client served while the first was open")
	}
	first.Close()
	second.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(second, make([]byte, 1)); err != nil {
		t.Fatalf("second client never served: %v", err)
	}
	second.Close()
	p.stop(syscall.SIGTERM, 0)
}

// TestRelayACL: --allow and --deny (and their files) are checked before
// anything is dialed.
func TestRelayACL(t *testing.T) {
	file := t.TempDir() + "/deny"
	os.WriteFile(file, []byte("# loopback is not welcome\n\n127.0.0.0/8\n"), 0o644)
	for _, c := range []struct {
		args  []string
		admit bool
	}{
		{[]string{"--allow", "127.0.0.1"}, true},
		{[]string{"--allow", "10.0.0.0/8"}, false},
		{[]string{"--deny", "127.0.0.1/32"}, false},
		{[]string{"--allow", "127.0.0.0/8", "--deny", "127.0.0.1"}, false},
		{[]string{"--deny", "10.0.0.0/8", "--deny", "192.168.0.0/16"}, true},
		{[]string{"--deny-file", file}, false},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			echo := newEchoServer(t)
			p, port := startRelay(t, append(c.args, "listen:127.0.0.1:0", "127.0.0.1:"+echo.port)...)
			conn := dial(t, port)
			conn.SetDeadline(time.Now().Add(20 * time.Second))
			conn.Write([]byte("x"))
			conn.CloseWrite()
			got, _ := io.ReadAll(conn)
			conn.Close()
			if c.admit != (string(got) == "x") {
				t.Fatalf("admit=%v but got %q", c.admit, got)
			}
			if !c.admit {
				p.waitLine(`#\d+ refused 127\.0\.0\.1:\d+: `)
				if n := echo.count(); n != 0 {
					t.Fatalf("refused client still made %d connections to TO", n)
				}
			}
			p.stop(syscall.SIGTERM, 0)
		})
	}
}

// TestRelayIdle: -i closes a pairing idle both ways; both peers see it.
func TestRelayIdle(t *testing.T) {
	l, port := listen(t)
	serverSaw := make(chan error, 1)
	serveOne(t, l, func(c *net.TCPConn) {
		_, err := c.Read(make([]byte, 1))
		serverSaw <- err
	})
	p, rport := startRelay(t, "-i", "300ms", "listen:127.0.0.1:0", "127.0.0.1:"+port)
	c := dial(t, rport)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("client read data")
	}
	if err := <-serverSaw; err == nil {
		t.Fatal("server read data")
	}
	p.waitLine(`closed .* idle timeout$`)
	p.stop(syscall.SIGTERM, 0)
}

// TestRelayDrain: SIGTERM stops accepting but lets a transfer in flight
// finish, then the relay exits 0.
func TestRelayDrain(t *testing.T) {
	l, port := listen(t)
	data, sum := randomFile(t, 16<<20, 9)
	release := make(chan struct{})
	serveOne(t, l, func(c *net.TCPConn) {
		io.Copy(io.Discard, c)
		<-release // the transfer is in flight when the signal comes
		f, _ := os.Open(data)
		defer f.Close()
		io.Copy(c, f)
	})
	p, rport := startRelay(t, "--drain", "20s", "listen:127.0.0.1:0", "127.0.0.1:"+port)
	c := dial(t, rport)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	c.CloseWrite()
	p.waitLine(`#\d+ open `)
	p.signal(syscall.SIGTERM)
	p.waitLine(`stopped accepting; waiting up to 20s for 1 open pairings$`)
	if c2, err := net.Dial("tcp", "127.0.0.1:"+rport); err == nil {
		c2.Close()
		t.Fatal("relay still accepting after SIGTERM")
	}
	close(release)
	h := sha256.New()
	io.Copy(h, c)
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		t.Fatalf("drained transfer corrupted or cut: %s, want %s", got, sum)
	}
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
}

// TestRelayEndpointErrors: a bad endpoint is a usage error naming it, with
// a hint showing a valid form.
func TestRelayEndpointErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		line string
	}{
		{[]string{"listen:8080,bogus", "host:80"}, `^gnc: invalid endpoint "listen:8080,bogus": unknown option "bogus"$`},
		{[]string{"socks:proxy:1080", "listen:0"}, `^gnc: invalid endpoint "socks:proxy:1080": socks is socat's endpoint, not gnc's$`},
		{[]string{"listen:0", "host"}, `^gnc: invalid endpoint "host": need both a host and a port$`},
		{[]string{"listen:0"}, `^gnc: relay needs two endpoints, FROM and TO$`},
	} {
		_, stderr, st := runGNC(t, opts{}, append([]string{"relay"}, c.args...)...)
		lines := strings.Split(stderr, "\n")
		if st != 2 || len(lines) != 2 || !regexp.MustCompile(c.line).MatchString(lines[0]) || !strings.HasPrefix(lines[1], "gnc: hint: ") {
			t.Errorf("relay %v: exit %d, stderr:\n%s", c.args, st, stderr)
		}
	}
}

// TestRelayNoLeaks opens and closes 1,000 connections through a relay
// process and checks its descriptors come back to where they started.
func TestRelayNoLeaks(t *testing.T) {
	echo := newEchoServer(t)
	p, port := startRelay(t, "listen:127.0.0.1:0", "127.0.0.1:"+echo.port)
	fds := func() int {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
		if err != nil {
			t.Skip("no /proc")
		}
		return len(ents)
	}
	before := fds()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp", "127.0.0.1:"+port)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			if i%2 == 0 {
				c.Write([]byte("ping"))
				c.(*net.TCPConn).CloseWrite()
				io.ReadAll(bufio.NewReader(c))
			}
		}()
	}
	wg.Wait()
	// Pooled splice pipes are closed a second after the last one is used.
	pid := p.cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for (sockets(t, pid) > 1 || fds() > before) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling a count, bounded
	}
	if after := fds(); after > before || sockets(t, pid) > 1 {
		t.Fatalf("descriptors: %d before, %d after (%d sockets)", before, after, sockets(t, pid))
	}
	p.stop(syscall.SIGTERM, 0)
}

// sockets counts a process's open sockets (the listener is one).
func sockets(t *testing.T, pid int) int {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(dir + "/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

// TestRelayOnce: --once serves one connection, then exits.
func TestRelayOnce(t *testing.T) {
	echo := newEchoServer(t)
	p, port := startRelay(t, "--once", "listen:127.0.0.1:0", "127.0.0.1:"+echo.port)
	roundTrip(t, "127.0.0.1:"+port, 1<<20, 1)
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
}

// TestRelaySecondSignal: a second signal during the drain ends everything
// at once.
func TestRelaySecondSignal(t *testing.T) {
	l, port := listen(t)
	release := make(chan struct{})
	defer close(release)
	serveOne(t, l, func(c *net.TCPConn) { <-release })
	p, rport := startRelay(t, "--drain", "1m", "listen:127.0.0.1:0", "127.0.0.1:"+port)
	c := dial(t, rport)
	p.waitLine(`#\d+ open `)
	p.signal(syscall.SIGTERM)
	p.waitLine(`stopped accepting`)
	p.signal(syscall.SIGTERM)
	if st := p.wait(); st != 143 {
		t.Fatalf("exit %d after a second SIGTERM, want 143", st)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("client still open")
	}
}
