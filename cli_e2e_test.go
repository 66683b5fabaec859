//go:build linux

package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRelayListenToStdioServesOne: a relay from a listener to stdio
// without -k serves its first client and exits, since stdio can be used
// only once, instead of accepting clients it can only turn away.
func TestRelayListenToStdioServesOne(t *testing.T) {
	out := newLockedBuffer()
	p := start(t, opts{stdin: "hello", stdout: out}, "relay", "-v", "listen:127.0.0.1:0", "-")
	port := p.waitLine(`listening on \S+:(\d+) `)[1]
	c := dial(t, port)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	c.Write([]byte("back"))
	c.CloseWrite()
	got, _ := io.ReadAll(c)
	if string(got) != "hello" {
		t.Fatalf("client got %q, want %q", got, "hello")
	}
	c.Close()
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
	if got := string(out.bytes()); got != "back" {
		t.Fatalf("stdout %q, want %q", got, "back")
	}
	if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		c.Close()
		t.Fatal("the listener still accepts after its one pairing")
	}
}

// TestRelayStdioBothEnds: "gnc relay - -" has nothing to relay between.
func TestRelayStdioBothEnds(t *testing.T) {
	_, stderr, st := runGNC(t, opts{}, "relay", "-", "stdio")
	if st != 2 || !strings.HasPrefix(stderr, "gnc: both endpoints are stdio") || !strings.Contains(stderr, "gnc: hint: ") {
		t.Fatalf("exit %d, stderr %q", st, stderr)
	}
}

// TestRelayStdioSignals: a relay on stdio is a session, as in nc mode: a
// signal ends it at once with 128+n, with no drain.
func TestRelayStdioSignals(t *testing.T) {
	l, port := listen(t)
	accepted := make(chan struct{})
	serveOne(t, l, func(c *net.TCPConn) {
		close(accepted)
		io.Copy(io.Discard, c)
	})
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	p := start(t, opts{stdin: pr}, "relay", "-", "127.0.0.1:"+port)
	<-accepted
	t0 := time.Now()
	p.stop(syscall.SIGTERM, 143)
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("took %v to stop: it drained", d)
	}

	p = start(t, opts{}, "relay", "-v", "listen:127.0.0.1:0", "-")
	p.waitLine(`listening on `)
	p.stop(syscall.SIGINT, 130)
}

// TestRelayDrainExpired: when the drain runs out, one line says how many
// pairings were cut, even without -v, and the relay exits 0.
func TestRelayDrainExpired(t *testing.T) {
	a, portA := listen(t)
	b, portB := listen(t)
	flowing := make(chan struct{})
	serveOne(t, a, func(c *net.TCPConn) {
		c.Write([]byte("ping"))
		io.Copy(io.Discard, c) // holds the pairing open until cut
	})
	serveOne(t, b, func(c *net.TCPConn) {
		if _, err := io.ReadFull(c, make([]byte, 4)); err == nil {
			close(flowing) // the pairing is copying
		}
		io.Copy(io.Discard, c)
	})
	p := start(t, opts{}, "relay", "--drain", "300ms", "127.0.0.1:"+portA, "127.0.0.1:"+portB)
	select {
	case <-flowing:
	case <-time.After(20 * time.Second):
		t.Fatalf("no bytes crossed the relay; stderr:\n%s", p.stderr())
	}
	p.stop(syscall.SIGTERM, 0)
	if got := p.stderr(); got != "gnc: drain time 300ms ran out: cut 1 open pairing" {
		t.Fatalf("stderr %q", got)
	}
}

// TestStopSignals: SIGHUP and SIGQUIT end gnc as SIGINT and SIGTERM do,
// through its own exit path (no goroutine dump), with 128+n.
func TestStopSignals(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGHUP, 129}, {syscall.SIGQUIT, 131}} {
		p := start(t, opts{}, "-l", "127.0.0.1", "0", "-v")
		p.port()
		p.stop(c.sig, c.want)
		if ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() || strings.Contains(p.stderr(), "goroutine") {
			t.Fatalf("%v killed gnc instead of ending it (signalled %v); stderr %q", c.sig, ws.Signaled(), p.stderr())
		}
	}
}

// TestListenIPv4Any: an explicit 0.0.0.0 listens on IPv4 only, as for
// nc.openbsd and socat; no address at all listens on both families.
func TestListenIPv4Any(t *testing.T) {
	if l, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		l.Close()
	}
	p := start(t, opts{}, "-l", "0.0.0.0", "0", "-v")
	port := p.port()
	if c, err := net.Dial("tcp6", "[::1]:"+port); err == nil {
		c.Close()
		t.Fatal("gnc -l 0.0.0.0 accepted a connection on ::1")
	}
	c := dial(t, port)
	c.Close()
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}

	p = start(t, opts{}, "-l", "0", "-v")
	c6, err := net.Dial("tcp6", "[::1]:"+p.port())
	if err != nil {
		t.Fatalf("gnc -l with no address refused ::1: %v", err)
	}
	c6.Close()
	p.wait()
}

// TestUsageMistakes: each is exit 2 with one line naming what is wrong
// and a hint.
func TestUsageMistakes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "rules")
	os.WriteFile(bad, []byte("10.0.0.0/8\n10.0.0.0/33\n"), 0o644)
	for _, c := range []struct {
		args []string
		line string
	}{
		{[]string{"-m", "-3", "-l", "0"}, `^gnc: -m takes a number of connections, 0 or more, not -3$`},
		{[]string{"-i", "-5", "127.0.0.1", "1"}, `^gnc: -i takes a duration of 0 or more, not -5$`},
		{[]string{"-w", "-1", "127.0.0.1", "1"}, `^gnc: -w takes a duration of 0 or more, not -1$`},
		{[]string{"-l", "-p", "1", "-p", "2"}, `^gnc: flag -p given twice$`},
		{[]string{"-6", "127.0.0.1", "80"}, `^gnc: invalid address "127\.0\.0\.1": not an IPv6 address`},
		{[]string{"relay", "-m", "-1", "listen:0", "127.0.0.1:1"}, `^gnc: -m takes a number`},
		{[]string{"relay", "--allow-file", filepath.Join(dir, "nope"), "listen:0", "127.0.0.1:1"}, `^gnc: --allow-file \S+/nope: no such file or directory$`},
		{[]string{"relay", "--deny-file", bad, "listen:0", "127.0.0.1:1"}, `^gnc: --deny-file \S+/rules:2: invalid CIDR "10\.0\.0\.0/33"$`},
		{[]string{"--hexdump-file", filepath.Join(dir, "no", "dump"), "127.0.0.1", "1"}, `^gnc: --hexdump-file \S+/no/dump: no such file or directory$`},
		{[]string{"relay", "--hexdump-file", filepath.Join(dir, "no", "dump"), "listen:0", "127.0.0.1:1"}, `^gnc: --hexdump-file \S+/no/dump: no such file or directory$`},
	} {
		_, stderr, st := runGNC(t, opts{}, c.args...)
		lines := strings.Split(stderr, "\n")
		if st != 2 || len(lines) != 2 || !regexp.MustCompile(c.line).MatchString(lines[0]) || !strings.HasPrefix(lines[1], "gnc: hint: ") {
			t.Errorf("gnc %s: exit %d, stderr:\n%s\nwant exit 2 and a line matching %s, then a hint", strings.Join(c.args, " "), st, stderr, c.line)
		}
	}
}

// TestHelpNoise: help shows no "(default: 0)" and names --color's value.
func TestHelpNoise(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"relay", "-h"}} {
		out, _, st := runGNC(t, opts{}, args...)
		if st != 0 || strings.Contains(out, "(default: 0)") || strings.Contains(out, "(default: false)") || !strings.Contains(out, "--color WHEN") {
			t.Errorf("gnc %s: exit %d, help:\n%s", strings.Join(args, " "), st, out)
		}
	}
}

// TestWaitEndsQuietSession: as OpenBSD nc's -w, a session in which no byte
// moves for the -w time ends with status 0 after printing the whole reply,
// against a keep-alive server that never closes; with -l, -w does not
// bound the wait for a client.
func TestWaitEndsQuietSession(t *testing.T) {
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) {
		buf := make([]byte, 4096)
		n, _ := c.Read(buf)
		if strings.HasPrefix(string(buf[:n]), "GET / ") {
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		}
		io.Copy(io.Discard, c) // keep-alive: waits for more requests
	})
	pr, pw, err := os.Pipe() // stdin held open, as a script's printf | nc is not
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	pw.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	out := newLockedBuffer()
	t0 := time.Now()
	p := start(t, opts{stdin: pr, stdout: out}, "-w", "500ms", "127.0.0.1", port)
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
	if d := time.Since(t0); d < 500*time.Millisecond {
		t.Fatalf("ended after %v, before -w", d)
	}
	if got := string(out.bytes()); !strings.HasSuffix(got, "\r\n\r\nok") {
		t.Fatalf("stdout %q", got)
	}

	srv := start(t, opts{stdin: "x"}, "-l", "-w", "300ms", "127.0.0.1", "0", "-v")
	port = srv.port()
	if srv.exited(800 * time.Millisecond) {
		t.Fatalf("gnc -l -w gave up waiting for a client: %s", srv.stderr())
	}
	c := dial(t, port)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	got, _ := io.ReadAll(c) // gnc sends "x", half-closes, then the session goes quiet
	if string(got) != "x" {
		t.Fatalf("client got %q", got)
	}
	if st := srv.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, srv.stderr())
	}
}
