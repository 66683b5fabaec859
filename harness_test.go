//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"gnc/internal/testnet"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gncPath is the binary under test, built once for the whole run.
var gncPath string

func TestMain(m *testing.M) {
	if bin := os.Getenv("GNC_TEST_BIN"); bin != "" {
		// Another build under test, such as an older commit's, to check
		// that a regression test fails without its fix.
		gncPath = bin
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "gnc-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gncPath = filepath.Join(dir, "gnc")
	build := []string{"build", "-o", gncPath}
	if raceBuild {
		build = append(build, "-race")
	}
	if out, err := exec.Command("go", append(build, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building gnc: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running gnc, driven as a user would drive it.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string      // stderr so far, line by line
	more   chan struct{} // closed and replaced whenever a line arrives
	eof    bool
	done   chan struct{}
	status int
}

// opts says where a gnc's stdin comes from and its stdout goes.
type opts struct {
	stdin  any // nil (/dev/null), string (its bytes, through a pipe), an io.Reader, or *os.File
	stdout io.Writer
	env    []string
}

// start runs gnc with args. The test fails if gnc has not exited by the
// end of the test; it is killed then, so no process outlives a test.
func start(t *testing.T, o opts, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(gncPath, args...)
	switch in := o.stdin.(type) {
	case nil:
	case string:
		cmd.Stdin = strings.NewReader(in)
	case *os.File:
		cmd.Stdin = in
	case io.Reader:
		// Our own pipe rather than exec's: exec's Wait would wait for the
		// copy from a reader that a test may keep open after gnc exits.
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = pr
		defer pr.Close()
		go func() {
			io.Copy(pw, in)
			pw.Close()
		}()
	}
	cmd.Stdout = o.stdout
	cmd.Env = append(os.Environ(), o.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, more: make(chan struct{}), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		p.mu.Lock()
		p.eof = true
		close(p.more)
		p.mu.Unlock()
		err := cmd.Wait()
		p.status = exitStatus(err)
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
			t.Errorf("gnc %s was still running at the end of the test; stderr:\n%s", strings.Join(args, " "), p.stderr())
		}
	})
	return p
}

func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

// waitLine waits for a stderr line matching re and returns its submatches.
func (p *proc) waitLine(re string) []string {
	p.t.Helper()
	return p.waitLines(re, 1)[0]
}

// waitLines waits for n stderr lines matching re and returns their
// submatches.
func (p *proc) waitLines(re string, n int) [][]string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(20 * time.Second)
	var found [][]string
	for i := 0; ; {
		p.mu.Lock()
		for ; i < len(p.lines); i++ {
			if m := rx.FindStringSubmatch(p.lines[i]); m != nil {
				if found = append(found, m); len(found) == n {
					p.mu.Unlock()
					return found
				}
			}
		}
		more, eof := p.more, p.eof
		p.mu.Unlock()
		if eof {
			p.t.Fatalf("gnc exited without printing a line matching %q; stderr:\n%s", re, p.stderr())
		}
		select {
		case <-more:
		case <-deadline:
			p.t.Fatalf("no stderr line matching %q after 20s; stderr:\n%s", re, p.stderr())
		}
	}
}

// port waits for gnc -v's "Listening on ADDR PORT" and returns PORT.
func (p *proc) port() string {
	p.t.Helper()
	return p.waitLine(`^Listening on \S+ (\d+)$`)[1]
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// wait waits for gnc to exit and returns its status.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.status
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("gnc did not exit within 60s; stderr:\n%s", p.stderr())
		return -1
	}
}

// exited reports whether gnc has exited within d, for checks that it keeps
// running: such a check can only be bounded, never proven.
func (p *proc) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *proc) signal(s os.Signal) { p.cmd.Process.Signal(s) }

// stop sends sig, waits for gnc to exit and checks its status.
func (p *proc) stop(sig os.Signal, want int) {
	p.t.Helper()
	p.signal(sig)
	if st := p.wait(); st != want {
		p.t.Fatalf("exit %d after %v, want %d; stderr:\n%s", st, sig, want, p.stderr())
	}
}

// runGNC runs gnc to completion.
func runGNC(t *testing.T, o opts, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out bytes.Buffer
	if o.stdout == nil {
		o.stdout = &out
	}
	p := start(t, o, args...)
	status = p.wait()
	return out.String(), p.stderr(), status
}

// randomFile writes n reproducible random bytes to a file in dir and
// returns its path and SHA-256.
func randomFile(t *testing.T, n int64, seed uint64) (string, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "data-")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, n)); err != nil {
		t.Fatal(err)
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil))
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

// hashWriter hashes what gnc writes to stdout (through a pipe).
type hashWriter struct {
	mu sync.Mutex
	h  interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func newHashWriter() *hashWriter { return &hashWriter{h: sha256.New()} }

func (w *hashWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n += int64(len(p))
	return w.h.Write(p)
}

func (w *hashWriter) sum() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return hex.EncodeToString(w.h.Sum(nil))
}

// listen starts a loopback TCP listener for a test's own peer.
func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return l, port
}

// dial connects a test's client to gnc on a loopback port; the conn is
// closed when the test ends, if the test has not closed it already.
func dial(t *testing.T, port string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// closedPort returns a loopback port that refuses connections: a socket
// is bound to it but never listens, so nobody else can take the port
// while the test uses it.
func closedPort(t *testing.T) string {
	t.Helper()
	return strconv.Itoa(testnet.ClosedPort(t))
}

// serveOne accepts one connection on l and runs f on it in a goroutine
// that the test waits for.
func serveOne(t *testing.T, l net.Listener, f func(c *net.TCPConn)) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Add(1)
	t.Cleanup(wg.Wait)
	go func() {
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(60 * time.Second))
		f(c.(*net.TCPConn))
	}()
}
