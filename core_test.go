//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const bigSize = 64 << 20

// TestBothWaysAtOnce sends 64 MiB each way at the same time between a
// listening and a connecting gnc, through regular files (spliced to the
// socket and into a file) and through pipes (splice both ways), and checks
// every byte with SHA-256.
func TestBothWaysAtOnce(t *testing.T) {
	for _, kind := range []string{"files", "pipes"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			aPath, aSum := randomFile(t, bigSize, 1)
			bPath, bSum := randomFile(t, bigSize, 2)
			open := func(p string) any {
				f, err := os.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				if kind == "pipes" {
					return io.Reader(struct{ io.Reader }{f}) // hides *os.File: exec makes a pipe
				}
				return f
			}
			var outs [2]interface{ sum() string }
			var writers [2]io.Writer
			for i := range writers {
				if kind == "pipes" {
					hw := newHashWriter()
					outs[i], writers[i] = hw, hw
				} else {
					f, err := os.Create(filepath.Join(t.TempDir(), "out"))
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { f.Close() })
					outs[i], writers[i] = fileSum{t, f.Name()}, f
				}
			}
			l := start(t, opts{stdin: open(aPath), stdout: writers[0]}, "-l", "127.0.0.1", "0", "-v")
			c := start(t, opts{stdin: open(bPath), stdout: writers[1]}, "127.0.0.1", l.port())
			if st := c.wait(); st != 0 {
				t.Fatalf("connecting gnc exited %d: %s", st, c.stderr())
			}
			if st := l.wait(); st != 0 {
				t.Fatalf("listening gnc exited %d: %s", st, l.stderr())
			}
			if got := outs[0].sum(); got != bSum {
				t.Errorf("listener received %s, want %s", got, bSum)
			}
			if got := outs[1].sum(); got != aSum {
				t.Errorf("connector received %s, want %s", got, aSum)
			}
		})
	}
}

type fileSum struct {
	t    *testing.T
	path string
}

func (f fileSum) sum() string { return fileHash(f.t, f.path) }

// TestRequestReply is `printf 'GET / ...' | gnc host 80`: gnc half-closes
// after the request and prints the whole reply, even one that comes late
// (socat's 0.5s timeout drops it) and in pieces.
func TestRequestReply(t *testing.T) {
	l, port := listen(t)
	reply := strings.Repeat("reply line\n", 50000)
	serveOne(t, l, func(c *net.TCPConn) {
		req, err := io.ReadAll(c) // until gnc's half-close
		if err != nil || string(req) != "GET / HTTP/1.0\r\n\r\n" {
			t.Errorf("server read %q, %v", req, err)
			return
		}
		time.Sleep(700 * time.Millisecond) // a slow server, not synchronisation
		for i := 0; i < len(reply); i += 100000 {
			c.Write([]byte(reply[i:min(i+100000, len(reply))]))
		}
	})
	out, stderr, st := runGNC(t, opts{stdin: "GET / HTTP/1.0\r\n\r\n"}, "127.0.0.1", port)
	if st != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", st, stderr)
	}
	if out != reply {
		t.Fatalf("got %d bytes of reply, want %d", len(out), len(reply))
	}
}

// TestDevNullReceiver is `gnc -l PORT </dev/null >out` against
// `gnc host PORT <file`, with the roles of sender and receiver swapped
// too: both sides exit 0 and out is file.
func TestDevNullReceiver(t *testing.T) {
	data, sum := randomFile(t, 8<<20, 3)
	for _, listenerSends := range []bool{false, true} {
		t.Run(fmt.Sprint("listenerSends=", listenerSends), func(t *testing.T) {
			f, err := os.Open(data)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			out, err := os.Create(filepath.Join(t.TempDir(), "out"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			lo, co := opts{stdout: out}, opts{stdin: f, stdout: io.Discard}
			if listenerSends {
				lo, co = opts{stdin: f, stdout: io.Discard}, opts{stdout: out}
			}
			l := start(t, lo, "-l", "127.0.0.1", "0", "-v")
			c := start(t, co, "127.0.0.1", l.port())
			if st := c.wait(); st != 0 {
				t.Fatalf("connector exit %d: %s", st, c.stderr())
			}
			if st := l.wait(); st != 0 {
				t.Fatalf("listener exit %d: %s", st, l.stderr())
			}
			if got := fileHash(t, out.Name()); got != sum {
				t.Fatalf("received %s, want %s", got, sum)
			}
		})
	}
}

// TestPeerHalfCloseFirst: the peer finishes sending and half-closes before
// gnc has sent its upload; the upload must still arrive whole.
func TestPeerHalfCloseFirst(t *testing.T) {
	data, sum := randomFile(t, 16<<20, 4)
	l, port := listen(t)
	got := make(chan string, 1)
	serveOne(t, l, func(c *net.TCPConn) {
		c.Write([]byte("hello\n"))
		c.CloseWrite()
		hw := newHashWriter()
		io.Copy(hw, c)
		got <- hw.sum()
	})
	f, _ := os.Open(data)
	defer f.Close()
	out, stderr, st := runGNC(t, opts{stdin: io.Reader(struct{ io.Reader }{f})}, "127.0.0.1", port)
	if st != 0 || out != "hello\n" {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
	if g := <-got; g != sum {
		t.Fatalf("peer received %s, want %s", g, sum)
	}
}

// TestKeepOpen serves several clients at once with -k: each client's bytes
// reach stdout, stdin reaches every client, and end of stdin half-closes
// them all.
func TestKeepOpen(t *testing.T) {
	pr, pw := io.Pipe()
	out := newLockedBuffer()
	l := start(t, opts{stdin: pr, stdout: out}, "-lk", "127.0.0.1", "0", "-v")
	port := l.port()
	const clients = 5
	conns := make([]*net.TCPConn, clients)
	for i := range conns {
		conns[i] = dial(t, port)
	}
	for range clients {
		l.waitLine(`^Connection received on `)
	}
	// Every client is connected and registered once its first byte is
	// through; then stdin goes to all of them.
	for i, c := range conns {
		fmt.Fprintf(c, "%c", 'a'+i)
	}
	out.waitLen(t, clients)
	io.WriteString(pw, "to everyone\n")
	pw.Close()
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			got, err := io.ReadAll(c) // until gnc half-closes
			if err != nil || string(got) != "to everyone\n" {
				t.Errorf("client %d got %q, %v", i, got, err)
			}
			c.Write(bytes.Repeat([]byte{byte('A' + i)}, 100000))
			c.CloseWrite()
		}()
	}
	wg.Wait()
	out.waitLen(t, clients+clients*100000)
	counts := map[byte]int{}
	for _, b := range out.bytes() {
		counts[b]++
	}
	for i := range clients {
		if counts[byte('a'+i)] != 1 || counts[byte('A'+i)] != 100000 {
			t.Errorf("client %d: got %d and %d bytes on stdout", i, counts[byte('a'+i)], counts[byte('A'+i)])
		}
	}
	if l.exited(100 * time.Millisecond) {
		t.Fatalf("gnc -k exited after its clients left: %s", l.stderr())
	}
	l.signal(syscall.SIGTERM)
	if st := l.wait(); st != 143 {
		t.Fatalf("exit %d after SIGTERM, want 143", st)
	}
}

// TestKeepOpenMaxConns: with -m 1 a second client waits in the backlog
// until the first is done.
func TestKeepOpenMaxConns(t *testing.T) {
	out := newLockedBuffer()
	pr, pw := io.Pipe()
	defer pw.Close()
	l := start(t, opts{stdin: pr, stdout: out}, "-l", "-k", "-m", "1", "127.0.0.1", "0", "-v")
	port := l.port()
	first := dial(t, port)
	first.Write([]byte("1"))
	out.waitLen(t, 1)
	second := dial(t, port) // completes in the backlog
	second.Write([]byte("2"))
	if out.waitLenFor(2, 300*time.Millisecond) {
		t.Fatalf("second client served while the first was open: %q", out.bytes())
	}
	first.Close()
	out.waitLen(t, 2)
	l.signal(syscall.SIGINT)
	if st := l.wait(); st != 130 {
		t.Fatalf("exit %d after SIGINT, want 130", st)
	}
}

type lockedBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	more chan struct{}
}

func newLockedBuffer() *lockedBuffer { return &lockedBuffer{more: make(chan struct{})} }

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.more)
	b.more = make(chan struct{})
	return b.buf.Write(p)
}

func (b *lockedBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// waitLenFor waits up to d for at least n bytes.
func (b *lockedBuffer) waitLenFor(n int, d time.Duration) bool {
	deadline := time.After(d)
	for {
		b.mu.Lock()
		l, more := b.buf.Len(), b.more
		b.mu.Unlock()
		if l >= n {
			return true
		}
		select {
		case <-more:
		case <-deadline:
			return false
		}
	}
}

func (b *lockedBuffer) waitLen(t *testing.T, n int) {
	t.Helper()
	if !b.waitLenFor(n, 20*time.Second) {
		t.Fatalf("stdout has %d bytes after 20s, want %d", len(b.bytes()), n)
	}
}

// TestScan checks -z on lists, ranges and names against the truth found
// by dialing each port directly.
func TestScan(t *testing.T) {
	var open []string
	for range 3 {
		l, port := listen(t)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		open = append(open, port)
	}
	closed := closedPort(t)
	args := []string{"-zv", "127.0.0.1", open[0], open[1] + "," + closed, open[2] + "-" + open[2]}
	_, stderr, st := runGNC(t, opts{}, args...)
	if st != 0 {
		t.Fatalf("exit %d: %s", st, stderr)
	}
	var reported []string
	for _, line := range strings.Split(stderr, "\n") {
		if m := regexp.MustCompile(`^Connection to 127\.0\.0\.1 (\d+) port \[tcp/\S+\] succeeded!$`).FindStringSubmatch(line); m != nil {
			reported = append(reported, m[1])
		}
	}
	want := sortedPorts(open)
	if strings.Join(reported, " ") != strings.Join(want, " ") {
		t.Fatalf("reported %v, want %v in port order; stderr:\n%s", reported, want, stderr)
	}
	// Nothing accepted: exit 1, and silence without -v.
	_, stderr, st = runGNC(t, opts{}, "-z", "127.0.0.1", closed)
	if st != 1 || stderr != "" {
		t.Fatalf("closed port: exit %d, stderr %q; want 1 and nothing", st, stderr)
	}
	// -vv reports the refusals too.
	_, stderr, _ = runGNC(t, opts{}, "-zvv", "127.0.0.1", closed)
	if !strings.Contains(stderr, "gnc: connect to 127.0.0.1 port "+closed+" (tcp) failed: connection refused") {
		t.Fatalf("-zvv stderr %q", stderr)
	}
}

func sortedPorts(ps []string) []string {
	out := append([]string{}, ps...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			var a, b int
			fmt.Sscan(out[i], &a)
			fmt.Sscan(out[j], &b)
			if b < a {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestErrors checks each failure's one line and exit status.
func TestErrors(t *testing.T) {
	busy, busyPort := listen(t)
	_ = busy
	closed := closedPort(t)
	cases := []struct {
		name   string
		args   []string
		status int
		lines  []string // regexps, one per stderr line
	}{
		{"refused", []string{"127.0.0.1", closed}, 1, []string{`^gnc: connect to 127\.0\.0\.1 port ` + closed + ` \(tcp\) failed: connection refused$`}},
		{"bind busy", []string{"-l", "127.0.0.1", busyPort}, 1, []string{`^gnc: bind to 127\.0\.0\.1 port ` + busyPort + ` failed: address already in use$`}},
		{"invalid port", []string{"127.0.0.1", "99999"}, 2, []string{`^gnc: invalid port "99999"$`, `^gnc: hint: `}},
		{"invalid listen port", []string{"-l", "-p", "http-x"}, 2, []string{`^gnc: invalid port "http-x"`, `^gnc: hint: `}},
		{"unresolvable", []string{"no..such..host", "80"}, 1, []string{`^gnc: lookup no\.\.such\.\.host: `}},
		{"-n with a name", []string{"-n", "localhost", "80"}, 1, []string{`^gnc: lookup localhost: not a numeric address`}},
		{"unknown flag", []string{"-Y", "127.0.0.1", "80"}, 2, []string{`^gnc: unknown flag -Y$`, `^gnc: hint: `}},
		{"unknown long flag", []string{"--frobnicate", "127.0.0.1", "80"}, 2, []string{`^gnc: unknown flag --frobnicate$`, `^gnc: hint: `}},
		{"missing port", []string{"127.0.0.1"}, 2, []string{`^gnc: invalid destination "127\.0\.0\.1": no port given$`, `^gnc: hint: `}},
		{"-l without port", []string{"-l"}, 2, []string{`^gnc: -l needs a port$`, `^gnc: hint: `}},
		{"-k without -l", []string{"-k", "127.0.0.1", "80"}, 2, []string{`^gnc: -k works with -l only$`, `^gnc: hint: `}},
		{"bad duration", []string{"-w", "soon", "127.0.0.1", "80"}, 2, []string{`^gnc: invalid -w duration "soon"$`, `^gnc: hint: `}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, st := runGNC(t, opts{}, c.args...)
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if st != c.status || len(lines) != len(c.lines) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %d lines", st, stderr, c.status, len(c.lines))
			}
			for i, re := range c.lines {
				if !regexp.MustCompile(re).MatchString(lines[i]) {
					t.Errorf("line %d = %q, want match for %q", i+1, lines[i], re)
				}
			}
		})
	}
}

// TestReset: a peer's reset ends gnc with status 1 and one line.
func TestReset(t *testing.T) {
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) {
		bufio.NewReader(c).ReadString('\n')
		c.SetLinger(0)
		c.Close()
	})
	pr, pw := io.Pipe()
	defer pw.Close()
	go io.WriteString(pw, "hi\n")
	_, stderr, st := runGNC(t, opts{stdin: pr}, "127.0.0.1", port)
	if st != 1 || !regexp.MustCompile(`^gnc: (read|write) tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:`+port+`: connection reset by peer$`).MatchString(stderr) {
		t.Fatalf("exit %d, stderr %q", st, stderr)
	}
}

// TestBrokenStdout: `gnc ... | head -c 10` stops quietly.
func TestBrokenStdout(t *testing.T) {
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) {
		chunk := bytes.Repeat([]byte("x"), 1<<16)
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	cmd := exec.Command("bash", "-c", fmt.Sprintf("%s 127.0.0.1 %s </dev/null | head -c 10; exit ${PIPESTATUS:-0}", gncPath, port))
	out, err := cmd.Output()
	if err != nil || string(out) != "xxxxxxxxxx" {
		t.Fatalf("out %q, err %v", out, err)
	}
	// The shell above hides gnc's own status; run it again with gnc's
	// stdout a pipe we close after 10 bytes.
	l2, port2 := listen(t)
	serveOne(t, l2, func(c *net.TCPConn) {
		chunk := bytes.Repeat([]byte("y"), 1<<16)
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	pr, pw, _ := os.Pipe()
	p := start(t, opts{stdout: pw}, "127.0.0.1", port2)
	pw.Close()
	buf := make([]byte, 10)
	io.ReadFull(pr, buf)
	pr.Close()
	if st := p.wait(); st != 0 || p.stderr() != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", st, p.stderr())
	}
}

// TestSignals: SIGINT and SIGTERM close the socket and exit 130 and 143,
// without a stack trace.
func TestSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			l, port := listen(t)
			closed := make(chan error, 1)
			serveOne(t, l, func(c *net.TCPConn) {
				_, err := io.ReadAll(c)
				closed <- err
			})
			pr, pw := io.Pipe()
			defer pw.Close()
			p := start(t, opts{stdin: pr}, "-v", "127.0.0.1", port)
			p.waitLine(`succeeded!$`)
			p.signal(sig)
			if st := p.wait(); st != 128+int(sig) {
				t.Fatalf("exit %d, want %d", st, 128+int(sig))
			}
			if strings.Contains(p.stderr(), "goroutine") {
				t.Fatalf("stack trace: %s", p.stderr())
			}
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("peer never saw the socket close")
			}
		})
	}
}

// TestFlagPermutations: clustered short flags and flags after positionals.
func TestFlagPermutations(t *testing.T) {
	for _, args := range [][]string{
		{"-lvnp", "0"},
		{"-lvn", "-p0"},
		{"-l", "127.0.0.1", "0", "-v", "-n"},
		{"-l", "-s", "127.0.0.1", "-p", "0", "-vn"},
		{"-l", "127.0.0.1:0", "-v"},
		{"--listen", "--verbose", "--port=0"},
		{"-l", "0", "-k", "-v", "-m", "3"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			p := start(t, opts{stdin: "ping\n"}, args...)
			port := p.port()
			c := dial(t, port)
			c.SetDeadline(time.Now().Add(20 * time.Second))
			got, _ := io.ReadAll(c)
			if string(got) != "ping\n" {
				t.Fatalf("got %q", got)
			}
			c.Close()
			if slicesContains(args, "-k") {
				p.stop(syscall.SIGTERM, 143)
				return
			}
			if st := p.wait(); st != 0 {
				t.Fatalf("exit %d: %s", st, p.stderr())
			}
		})
	}
	// Flags after the host and port when connecting.
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) { io.Copy(c, c) })
	out, stderr, st := runGNC(t, opts{stdin: "echo\n"}, "127.0.0.1", port, "-v", "-w", "2")
	if st != 0 || out != "echo\n" || !strings.Contains(stderr, "succeeded!") {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestIdleTimeout: -i ends a session that is idle both ways.
func TestIdleTimeout(t *testing.T) {
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) { io.Copy(io.Discard, c) })
	pr, pw := io.Pipe()
	defer pw.Close()
	t0 := time.Now()
	_, stderr, st := runGNC(t, opts{stdin: pr}, "-i", "300ms", "127.0.0.1", port)
	if st != 1 || stderr != "gnc: idle timeout expired" {
		t.Fatalf("exit %d, stderr %q", st, stderr)
	}
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Fatalf("ended after %v, before the idle timeout", d)
	}
}

// TestQuitAfterEOF: -q bounds the wait for the peer after stdin ends; the
// peer here never closes.
func TestQuitAfterEOF(t *testing.T) {
	for _, q := range []string{"0", "0.3", "300ms"} {
		t.Run(q, func(t *testing.T) {
			l, port := listen(t)
			release := make(chan struct{})
			defer close(release)
			serveOne(t, l, func(c *net.TCPConn) {
				io.Copy(io.Discard, c)
				c.Write([]byte("late but before -q\n"))
				<-release
			})
			out, stderr, st := runGNC(t, opts{stdin: "bye\n"}, "-q", q, "127.0.0.1", port)
			if st != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", st, stderr)
			}
			if q != "0" && out != "late but before -q\n" {
				t.Fatalf("out %q", out)
			}
		})
	}
}

// TestSummary: -vv ends with exact byte counts.
func TestSummary(t *testing.T) {
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) {
		io.Copy(io.Discard, c)
		c.Write(make([]byte, 12345))
	})
	_, stderr, st := runGNC(t, opts{stdin: strings.Repeat("z", 678)}, "-vv", "127.0.0.1", port)
	if st != 0 || !regexp.MustCompile(`(?m)^sent 678 bytes, received 12345 bytes in \d+\.\d+s \(.*/s\)$`).MatchString(stderr) {
		t.Fatalf("exit %d, stderr %q", st, stderr)
	}
}

// TestCRLF: -C sends LF as CRLF.
func TestCRLF(t *testing.T) {
	l, port := listen(t)
	got := make(chan string, 1)
	serveOne(t, l, func(c *net.TCPConn) {
		b, _ := io.ReadAll(c)
		got <- string(b)
	})
	_, stderr, st := runGNC(t, opts{stdin: "HELO x\nQUIT\r\n"}, "-C", "127.0.0.1", port)
	if st != 0 {
		t.Fatalf("exit %d: %s", st, stderr)
	}
	if g := <-got; g != "HELO x\r\nQUIT\r\n" {
		t.Fatalf("peer got %q", g)
	}
}

// TestRecvOnly: -d never reads stdin and never half-closes; the session
// ends when the peer does.
func TestRecvOnly(t *testing.T) {
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := c.Read(make([]byte, 10))
		if n != 0 || !os.IsTimeout(err) {
			t.Errorf("peer read %d bytes, %v; want nothing, not even end of file", n, err)
		}
		c.Write([]byte("data"))
	})
	out, stderr, st := runGNC(t, opts{stdin: "must not be sent"}, "-d", "127.0.0.1", port)
	if st != 0 || out != "data" {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
}

// TestNoShutdown: --no-shutdown never half-closes; the peer sees no end of
// file until gnc closes at the end of the session.
func TestNoShutdown(t *testing.T) {
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) {
		buf := make([]byte, 5)
		io.ReadFull(c, buf)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, err := c.Read(make([]byte, 1)); n != 0 || !os.IsTimeout(err) {
			t.Errorf("peer read %d, %v; want no end of file", n, err)
		}
		c.Write([]byte("ok"))
		c.CloseWrite()
	})
	out, stderr, st := runGNC(t, opts{stdin: "hello"}, "--no-shutdown", "127.0.0.1", port)
	if st != 0 || out != "ok" {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
}

// TestSendOnly: --send-only discards what arrives and still waits for the
// peer, so nothing is lost on either side.
func TestSendOnly(t *testing.T) {
	l, port := listen(t)
	got := make(chan string, 1)
	serveOne(t, l, func(c *net.TCPConn) {
		c.Write([]byte("ignored"))
		b, _ := io.ReadAll(c)
		got <- string(b)
	})
	out, stderr, st := runGNC(t, opts{stdin: "upload"}, "--send-only", "127.0.0.1", port)
	if st != 0 || out != "" {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
	if g := <-got; g != "upload" {
		t.Fatalf("peer got %q", g)
	}
}

// TestIPv6: [::1]:PORT and "::1 PORT" connect over IPv6.
func TestIPv6(t *testing.T) {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	for _, args := range [][]string{{"[::1]:" + port}, {"::1", port}, {"-6", "::1", port}} {
		serveOne(t, l, func(c *net.TCPConn) { io.Copy(c, c) })
		out, stderr, st := runGNC(t, opts{stdin: "six\n"}, args...)
		if st != 0 || out != "six\n" {
			t.Fatalf("%v: exit %d, out %q, stderr %q", args, st, out, stderr)
		}
	}
	p := start(t, opts{stdin: "x"}, "-l", "-6", "::1", "0", "-v")
	if m := p.waitLine(`^Listening on (\S+) \d+$`); m[1] != "::1" {
		t.Fatalf("listening on %s", m[1])
	}
	p.stop(syscall.SIGTERM, 143)
}

// TestVersion: -V prints the version; -v is never taken for it.
func TestVersion(t *testing.T) {
	out, _, st := runGNC(t, opts{}, "-V")
	if st != 0 || !strings.HasPrefix(out, "gnc version ") {
		t.Fatalf("exit %d, out %q", st, out)
	}
}

// TestKeepOpenRecvOnly: with -k -d stdin is never read, so no client is
// half-closed on its account, as with a single client.
func TestKeepOpenRecvOnly(t *testing.T) {
	out := newLockedBuffer()
	l := start(t, opts{stdout: out}, "-lkd", "127.0.0.1", "0", "-v")
	c := dial(t, l.port())
	c.Write([]byte("hi"))
	out.waitLen(t, 2)
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); n != 0 || !os.IsTimeout(err) {
		t.Fatalf("client read %d, %v; want no end of file", n, err)
	}
	l.stop(syscall.SIGTERM, 143)
}

// TestStreamTailNotHeld: after a bulk stream into a pipe on stdout (which
// raises the socket's low-water mark), a short tail that is not followed
// by more bytes or an end of file still reaches stdout promptly.
func TestStreamTailNotHeld(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	p := start(t, opts{stdout: pw}, "-lv", "127.0.0.1", "0")
	pw.Close()
	c := dial(t, p.port())

	payload := make([]byte, 8<<20+1000)
	rand.NewChaCha8([32]byte{9}).Read(payload)
	burst, tail := payload[:8<<20], payload[8<<20:]
	got := make([]byte, len(payload))
	pr.SetReadDeadline(time.Now().Add(20 * time.Second))
	go c.Write(burst)
	if n, err := io.ReadFull(pr, got[:len(burst)]); err != nil {
		t.Fatalf("read %d of the burst's %d bytes from gnc's stdout: %v", n, len(burst), err)
	}
	c.Write(tail) // and then nothing: no more bytes, no FIN
	// The low-water mark's wait is bounded by 2 ms; a second is a bound a
	// loaded machine still keeps, and without the bound the tail never
	// comes.
	pr.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := io.ReadFull(pr, got[len(burst):]); err != nil {
		t.Fatalf("read %d of the tail's %d bytes from gnc's stdout within a second: %v", n, len(tail), err)
	}
	if sha256.Sum256(got) != sha256.Sum256(payload) {
		t.Fatal("gnc's stdout differs from the bytes sent")
	}
	c.Close()
	if st := p.wait(); st != 0 {
		t.Fatalf("gnc exited %d; stderr:\n%s", st, p.stderr())
	}
}
