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
	"sync"
	"syscall"
	"testing"
	"time"
)

// blockingPipe makes a pipe whose ends are in blocking mode, as a shell's
// are. os.Pipe would not do: it makes its ends non-blocking.
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w = os.NewFile(uintptr(fds[0]), "pipe-r"), os.NewFile(uintptr(fds[1]), "pipe-w")
	t.Cleanup(func() {
		r.Close()
		w.Close()
	})
	return r, w
}

// TestSharedFlagsUntouched: gnc never sets O_NONBLOCK on the open file
// descriptions of its stdin and stdout, which the shell and the rest of
// a pipeline share: not while it runs, and not after a signal it does not
// catch (SIGHUP) or one it does (SIGTERM) ends it.
func TestSharedFlagsUntouched(t *testing.T) {
	for _, kind := range []string{"pipes", "terminal"} {
		for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM} {
			t.Run(kind+"/"+sig.String(), func(t *testing.T) {
				var in, out *os.File
				if kind == "pipes" {
					in, _ = blockingPipe(t)
					_, out = blockingPipe(t)
				} else {
					_, tty := openPTY(t)
					in, out = tty, tty
				}
				p := start(t, opts{stdin: in, stdout: out}, "-l", "127.0.0.1", "0", "-v")
				p.port()
				check := func(when string) {
					t.Helper()
					if nonblocking(t, in) {
						t.Errorf("stdin is non-blocking %s", when)
					}
					if nonblocking(t, out) {
						t.Errorf("stdout is non-blocking %s", when)
					}
				}
				check("while gnc listens")
				p.signal(sig)
				if st := p.wait(); st != 128+int(sig) {
					t.Fatalf("exit %d after %v, want %d", st, sig, 128+int(sig))
				}
				check("after " + sig.String())
			})
		}
	}
}

// TestPipelineNeighbourUnharmed is
// `{ gnc -l 127.0.0.1 PORT </dev/null & head -c 20M /dev/zero; } | slow-reader`:
// head shares gnc's stdout, and must be able to write all of it (it fails
// with EAGAIN if gnc makes the pipe non-blocking).
func TestPipelineNeighbourUnharmed(t *testing.T) {
	head, err := exec.LookPath("head")
	if err != nil {
		t.Skip("no head(1)")
	}
	const size = 20 << 20
	r, w := blockingPipe(t)
	p := start(t, opts{stdout: w}, "-l", "127.0.0.1", "0", "-v")
	p.port()
	h := exec.Command(head, "-c", fmt.Sprint(size), "/dev/zero")
	h.Stdout = w
	var herr bytes.Buffer
	h.Stderr = &herr
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	type result struct {
		n   int
		sum [32]byte
	}
	got := make(chan result, 1)
	go func() {
		hash := sha256.New()
		buf := make([]byte, 16<<10)
		n := 0
		for {
			m, err := r.Read(buf)
			hash.Write(buf[:m])
			n += m
			if err != nil {
				break
			}
			// A slow reader, so that the pipe is often full while head
			// writes: pacing, not synchronisation.
			time.Sleep(50 * time.Microsecond)
		}
		var res result
		res.n = n
		copy(res.sum[:], hash.Sum(nil))
		got <- res
	}()
	herrWait := h.Wait()
	p.signal(syscall.SIGTERM)
	p.wait()
	var res result
	select {
	case res = <-got:
	case <-time.After(60 * time.Second):
		t.Fatal("the reader never saw the end of the pipe")
	}
	if herrWait != nil {
		t.Errorf("head: %v: %s", herrWait, herr.String())
	}
	if res.n != size || res.sum != sha256.Sum256(make([]byte, size)) {
		t.Errorf("the pipe carried %d bytes (of %d zeros), intact: %v", res.n, size, res.sum == sha256.Sum256(make([]byte, size)))
	}
}

// TestStdoutEOFWhileRunning: when the direction towards stdout ends (the
// peer half-closes) while stdin is still open, whatever reads gnc's stdout
// sees end of file at once, not when gnc exits; and fd 1 is then
// /dev/null, not closed (its number would go to the next descriptor gnc
// opens, a splice pipe, where later writes to stdout would land).
func TestStdoutEOFWhileRunning(t *testing.T) {
	payload := bytes.Repeat([]byte("reply\n"), 50000)
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) {
		c.Write(payload)
		c.CloseWrite()
		io.Copy(io.Discard, c) // until gnc's stdin ends
	})
	inR, inW := blockingPipe(t)
	r, w := blockingPipe(t)
	p := start(t, opts{stdin: inR, stdout: w}, "127.0.0.1", port)
	w.Close()
	inR.Close()
	type result struct {
		b   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(r)
		got <- result{b, err}
	}()
	select {
	case res := <-got:
		if res.err != nil || !bytes.Equal(res.b, payload) {
			t.Fatalf("read %d bytes, %v; want %d", len(res.b), res.err, len(payload))
		}
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-got
		t.Fatal("no end of file on gnc's stdout 20s after the peer's")
	}
	select {
	case <-p.done:
		t.Fatalf("gnc exited before its stdin ended; stderr:\n%s", p.stderr())
	default:
	}
	if fd1, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/1", p.cmd.Process.Pid)); err != nil || fd1 != "/dev/null" {
		t.Errorf("gnc's fd 1 is %q (%v), want /dev/null", fd1, err)
	}
	inW.Close()
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d; stderr:\n%s", st, p.stderr())
	}
}

// TestSocketOnStdio: a socket on stdin and stdout (inetd style) is read
// and written without being made non-blocking, and half-closes pass.
func TestSocketOnStdio(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "sock-test"), os.NewFile(uintptr(fds[1]), "sock-gnc")
	defer theirs.Close()
	c, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	uc := c.(*net.UnixConn)
	uc.SetDeadline(time.Now().Add(20 * time.Second))

	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) {
		req, err := io.ReadAll(c) // until gnc passes stdin's end on
		if err != nil || string(req) != "ping\n" {
			t.Errorf("server read %q, %v", req, err)
		}
		if nonblocking(t, theirs) {
			t.Error("gnc made its stdin socket non-blocking")
		}
		c.Write([]byte("pong\n"))
	})
	p := start(t, opts{stdin: theirs, stdout: theirs}, "127.0.0.1", port)
	uc.Write([]byte("ping\n"))
	uc.CloseWrite()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(uc, buf); err != nil || string(buf) != "pong\n" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d; stderr:\n%s", st, p.stderr())
	}
	if nonblocking(t, theirs) {
		t.Error("gnc left its stdin socket non-blocking")
	}
}

// TestKeepOpenStalledClient: with -k, a client that never reads is
// dropped once the others have waited on it for a while, and the others
// get all of stdin at full speed (one reader that never reads froze stdin
// for all, as with ncat -lk).
func TestKeepOpenStalledClient(t *testing.T) {
	const readers, size = 10, 20 << 20
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{7}).Read(data)
	want := sha256.Sum256(data)
	pr, pw := io.Pipe()
	defer pw.Close()
	out := newLockedBuffer()
	l := start(t, opts{stdin: pr, stdout: out}, "-lk", "127.0.0.1", "0", "-v")
	port := l.port()
	stalled := dial(t, port)
	conns := make([]*net.TCPConn, readers)
	for i := range conns {
		conns[i] = dial(t, port)
	}
	// Every client is registered once its first byte is through.
	for _, c := range append([]*net.TCPConn{stalled}, conns...) {
		c.Write([]byte("x"))
	}
	out.waitLen(t, readers+1)
	go func() {
		pw.Write(data)
		pw.Close()
	}()
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			h := sha256.New()
			n, err := io.Copy(h, c)
			if err != nil || n != size || [32]byte(h.Sum(nil)) != want {
				t.Errorf("reader %d: %d bytes, %v; want all %d intact", i, n, err, size)
			}
		}()
	}
	wg.Wait()
	// The stalled client was disconnected: what it has can be read to an
	// end (a clean one or a reset).
	stalled.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, stalled)
	if os.IsTimeout(err) {
		t.Errorf("the client that never read is still connected after %d bytes", n)
	}
	l.signal(syscall.SIGTERM)
	if st := l.wait(); st != 143 {
		t.Fatalf("exit %d after SIGTERM, want 143", st)
	}
}
