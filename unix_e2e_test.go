//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unixPath is a socket path in a temporary directory of the test's.
func unixPath(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(t.TempDir(), name)
}

// waitListening waits for gnc -lU -v's "Listening on PATH".
func (p *proc) waitListening(path string) {
	p.t.Helper()
	p.waitLine(`^Listening on ` + regexp.QuoteMeta(path) + `$`)
}

// TestUnixBothWays: 64 MiB each way at once between gnc -lU and gnc -U,
// through files and through pipes, every byte checked with SHA-256.
func TestUnixBothWays(t *testing.T) {
	for _, kind := range []string{"files", "pipes"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			aPath, aSum := randomFile(t, bigSize, 11)
			bPath, bSum := randomFile(t, bigSize, 12)
			open := func(p string) any {
				f, err := os.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				if kind == "pipes" {
					return io.Reader(struct{ io.Reader }{f})
				}
				return f
			}
			outs := [2]*hashWriter{newHashWriter(), newHashWriter()}
			path := unixPath(t, "s.sock")
			l := start(t, opts{stdin: open(aPath), stdout: outs[0]}, "-lU", "-v", path)
			l.waitListening(path)
			c := start(t, opts{stdin: open(bPath), stdout: outs[1]}, "-U", path)
			if st := c.wait(); st != 0 {
				t.Fatalf("gnc -U exited %d: %s", st, c.stderr())
			}
			if st := l.wait(); st != 0 {
				t.Fatalf("gnc -lU exited %d: %s", st, l.stderr())
			}
			if outs[0].sum() != bSum || outs[1].sum() != aSum {
				t.Fatalf("SHA-256 mismatch: listener got %d bytes, client %d", outs[0].n, outs[1].n)
			}
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the socket file is still there: %v", err)
			}
		})
	}
}

// TestUnixHalfClose: gnc -U half-closes at stdin's end, exactly as over
// TCP: a server that answers after reading to end of file is heard.
func TestUnixHalfClose(t *testing.T) {
	path := unixPath(t, "s.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		req, err := io.ReadAll(c) // until gnc half-closes
		if err == nil {
			_, err = fmt.Fprintf(c, "HTTP/1.0 200 OK\r\n\r\nyou said %q\n", req)
		}
		done <- err
	}()
	out, stderr, st := runGNC(t, opts{stdin: "GET /version HTTP/1.0\r\n\r\n"}, "-U", path)
	if st != 0 {
		t.Fatalf("exit %d: %s", st, stderr)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := "HTTP/1.0 200 OK\r\n\r\nyou said \"GET /version HTTP/1.0\\r\\n\\r\\n\"\n"; out != want {
		t.Fatalf("stdout %q, want %q", out, want)
	}
}

// TestUnixPaths: a stale socket file is replaced, a live one is in use, and
// a path that is not a socket is left alone with a clear error.
func TestUnixPaths(t *testing.T) {
	t.Run("stale", func(t *testing.T) {
		path := unixPath(t, "s.sock")
		ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		ul.SetUnlinkOnClose(false)
		ul.Close()
		l := start(t, opts{stdin: "hi\n"}, "-lU", "-v", path)
		l.waitListening(path)
		out, stderr, st := runGNC(t, opts{stdin: "hello\n"}, "-U", path)
		if st != 0 || out != "hi\n" {
			t.Fatalf("through the replaced socket: exit %d, stdout %q: %s", st, out, stderr)
		}
		l.wait()
	})
	t.Run("live", func(t *testing.T) {
		path := unixPath(t, "s.sock")
		pr, pw := io.Pipe()
		defer pw.Close()
		first := start(t, opts{stdin: pr}, "-lU", "-v", path)
		first.waitListening(path)
		_, stderr, st := runGNC(t, opts{}, "-lU", path)
		if st != 1 || !strings.HasPrefix(stderr, "gnc: bind to "+path+" (unix) failed: address already in use\ngnc: hint: ") {
			t.Fatalf("second listener: exit %d, stderr %q", st, stderr)
		}
		// The first one still serves.
		out, _, st := runGNC(t, opts{stdin: "x"}, "-U", "-q", "0", path)
		if st != 0 || out != "" {
			t.Fatalf("the live listener was harmed: exit %d %q", st, out)
		}
		pw.Close()
		first.wait()
	})
	t.Run("not a socket", func(t *testing.T) {
		path := unixPath(t, "notes.txt")
		os.WriteFile(path, []byte("keep me"), 0o644)
		_, stderr, st := runGNC(t, opts{}, "-lU", path)
		if st != 1 || !strings.HasPrefix(stderr, "gnc: bind to "+path+" (unix) failed: it exists and is not a socket\ngnc: hint: ") {
			t.Fatalf("exit %d, stderr %q", st, stderr)
		}
		if b, _ := os.ReadFile(path); string(b) != "keep me" {
			t.Fatalf("the file was changed: %q", b)
		}
	})
	t.Run("missing", func(t *testing.T) {
		path := unixPath(t, "none.sock")
		_, stderr, st := runGNC(t, opts{stdin: "x"}, "-U", path)
		if st != 1 || !strings.HasPrefix(stderr, "gnc: connect to "+path+" (unix) failed: no such file or directory\ngnc: hint: ") {
			t.Fatalf("exit %d, stderr %q", st, stderr)
		}
	})
}

// TestUnixSignalRemovesSocket: the socket file is removed when gnc ends
// by SIGTERM or SIGINT.
func TestUnixSignalRemovesSocket(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			path := unixPath(t, "s.sock")
			pr, pw := io.Pipe()
			defer pw.Close()
			l := start(t, opts{stdin: pr}, "-lU", "-k", "-v", path)
			l.waitListening(path)
			if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
				t.Fatalf("no socket at %s: %v", path, err)
			}
			l.stop(sig, 128+int(sig))
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("after %v the socket file: %v, want it gone", sig, err)
			}
		})
	}
	t.Run("relay", func(t *testing.T) {
		path := unixPath(t, "r.sock")
		e := newEchoServer(t)
		r := start(t, opts{}, "relay", "-v", "unix-listen:"+path, "127.0.0.1:"+e.port)
		r.waitLine(`listening on ` + regexp.QuoteMeta(path) + ` `)
		r.stop(syscall.SIGTERM, 0)
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("after the relay's SIGTERM the socket file: %v, want it gone", err)
		}
	})
}

// TestUnixAbstract: @name listens and connects in Linux's abstract
// namespace, with no file anywhere.
func TestUnixAbstract(t *testing.T) {
	name := fmt.Sprintf("@gnc-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())
	l := start(t, opts{stdin: "from listener\n"}, "-lU", "-v", name)
	l.waitListening(name)
	out, stderr, st := runGNC(t, opts{stdin: "from client\n"}, "-U", name)
	if st != 0 || out != "from listener\n" {
		t.Fatalf("exit %d, stdout %q: %s", st, out, stderr)
	}
	l.wait()
}

// TestUnixPeerCred: -v names the peer's pid, uid and gid on both sides.
func TestUnixPeerCred(t *testing.T) {
	path := unixPath(t, "s.sock")
	pr, pw := io.Pipe()
	defer pw.Close()
	l := start(t, opts{stdin: pr}, "-lU", "-v", path)
	l.waitListening(path)
	c := start(t, opts{stdin: "x"}, "-U", "-v", path)
	cpid := c.cmd.Process.Pid
	uid, gid := os.Getuid(), os.Getgid()
	l.waitLine(fmt.Sprintf(`^Connection received on %s \(pid %d, uid %d, gid %d\)$`, regexp.QuoteMeta(path), cpid, uid, gid))
	c.waitLine(fmt.Sprintf(`^Connection to %s succeeded! \(pid %d, uid %d, gid %d\)$`, regexp.QuoteMeta(path), l.cmd.Process.Pid, uid, gid))
	pw.Close()
	c.wait()
	l.wait()
}

// TestUnixRelay: listen: to unix: and unix-listen: to tcp: carry 16 MiB
// both ways, checked, and --allow leaves a Unix client alone.
func TestUnixRelay(t *testing.T) {
	path := unixPath(t, "backend.sock")
	backend, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	go func() {
		for {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
				c.(*net.UnixConn).CloseWrite()
			}()
		}
	}()
	_, port := startRelay(t, "listen:127.0.0.1:0", "unix:"+path)
	roundTrip(t, "127.0.0.1:"+port, 16<<20, 5)

	e := newEchoServer(t)
	front := unixPath(t, "front.sock")
	r := start(t, opts{}, "relay", "-v", "--allow", "10.0.0.0/8", "unix-listen:"+front+",mode=0600", "127.0.0.1:"+e.port)
	r.waitLine(`listening on ` + regexp.QuoteMeta(front) + ` `)
	if fi, err := os.Lstat(front); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket file %v, %v; want mode 0600", fi, err)
	}
	path2, sum := randomFile(t, 16<<20, 3)
	f, _ := os.Open(path2)
	defer f.Close()
	out := newHashWriter()
	c := start(t, opts{stdin: f, stdout: out}, "-U", front)
	if st := c.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, c.stderr())
	}
	if out.sum() != sum {
		t.Fatalf("%d bytes came back, not the file", out.n)
	}
	r.stop(syscall.SIGTERM, 0)
}

// roundTripUnixDgram sends a datagram from a gnc -U -u client and a reply
// back from a gnc -lU -u listener.
func TestUnixDatagram(t *testing.T) {
	path := unixPath(t, "g.sock")
	pr, pw := io.Pipe()
	defer pw.Close()
	out := newLockedBuffer()
	l := start(t, opts{stdin: pr, stdout: out}, "-lUu", "-v", path)
	l.waitListening(path)
	cr, cw := io.Pipe()
	defer cw.Close()
	cout := newLockedBuffer()
	c := start(t, opts{stdin: cr, stdout: cout}, "-Uu", path)
	io.WriteString(cw, "ping\n")
	out.waitContains(t, "ping\n")
	m := l.waitLine(`^Connection received on (/\S+)$`)
	if _, err := os.Lstat(m[1]); err != nil {
		t.Fatalf("the client's own socket %s: %v", m[1], err)
	}
	io.WriteString(pw, "pong\n")
	cout.waitContains(t, "pong\n")
	c.stop(syscall.SIGTERM, 143)
	if _, err := os.Lstat(m[1]); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the client's own socket is still there after it exited: %v", err)
	}
	l.stop(syscall.SIGTERM, 143)
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the listener's socket file: %v, want it gone", err)
	}
}

// TestUnixInteropNcOpenBSD: gnc -U with nc.openbsd -lU, and nc.openbsd
// -U with gnc -lU; datagrams with nc.openbsd -Uu.
func TestUnixInteropNcOpenBSD(t *testing.T) {
	nc := needPeer(t, "nc.openbsd")
	t.Run("gnc connects", func(t *testing.T) {
		path := unixPath(t, "nc.sock")
		ncOut := newLockedBuffer()
		cmd := peerProc(t, strings.NewReader("from nc\n"), ncOut, nc, "-lU", path)
		waitSocket(t, path, cmd)
		out, stderr, st := runGNC(t, opts{stdin: "from gnc\n"}, "-U", path)
		if st != 0 || out != "from nc\n" {
			t.Fatalf("exit %d, stdout %q: %s", st, out, stderr)
		}
		ncOut.waitContains(t, "from gnc\n")
	})
	t.Run("gnc listens", func(t *testing.T) {
		path := unixPath(t, "g.sock")
		l := start(t, opts{stdin: "from gnc\n"}, "-lU", "-v", path)
		l.waitListening(path)
		ncOut := newLockedBuffer()
		peerProc(t, strings.NewReader("from nc\n"), ncOut, nc, "-N", "-U", path)
		ncOut.waitContains(t, "from gnc\n")
		l.wait()
	})
	t.Run("datagrams", func(t *testing.T) {
		path := unixPath(t, "gd.sock")
		pr, pw := io.Pipe()
		defer pw.Close()
		out := newLockedBuffer()
		l := start(t, opts{stdin: pr, stdout: out}, "-lUu", "-v", path)
		l.waitListening(path)
		ncIn, ncInW := io.Pipe()
		defer ncInW.Close()
		ncOut := newLockedBuffer()
		peerProc(t, ncIn, ncOut, nc, "-Uu", path)
		io.WriteString(ncInW, "from nc\n")
		out.waitContains(t, "from nc\n")
		io.WriteString(pw, "from gnc\n")
		ncOut.waitContains(t, "from gnc\n")
		l.stop(syscall.SIGTERM, 143)
	})
}

// TestUnixInteropSocat: gnc -U against socat UNIX-LISTEN, and socat as
// the client of gnc -lU.
func TestUnixInteropSocat(t *testing.T) {
	socat := needPeer(t, "socat")
	path := unixPath(t, "socat.sock")
	cmd := peerProc(t, nil, io.Discard, socat, "UNIX-LISTEN:"+path, "EXEC:cat")
	waitSocket(t, path, cmd)
	out, stderr, st := runGNC(t, opts{stdin: "echo me\n"}, "-U", path)
	if st != 0 || out != "echo me\n" {
		t.Fatalf("exit %d, stdout %q: %s", st, out, stderr)
	}

	path2 := unixPath(t, "g.sock")
	l := start(t, opts{stdin: "from gnc\n"}, "-lU", "-v", path2)
	l.waitListening(path2)
	sOut := newLockedBuffer()
	peerProc(t, strings.NewReader("from socat\n"), sOut, socat, "-", "UNIX-CONNECT:"+path2)
	sOut.waitContains(t, "from gnc\n")
	l.wait()
}

// waitSocket waits until a peer listens at path, as /proc/net/unix shows
// (connecting to find out would spend a server that serves one client).
func waitSocket(t *testing.T, path string, cmd interface{ String() string }) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !unixListening(path) {
		if time.Now().After(deadline) {
			t.Fatalf("%s listens on no socket at %s after 10s", cmd, path)
		}
		time.Sleep(2 * time.Millisecond) // polling the kernel's table
	}
}

// unixListening reports whether a stream socket listens at path.
func unixListening(path string) bool {
	b, _ := os.ReadFile("/proc/net/unix")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 8 && f[7] == path {
			if flags, err := strconv.ParseUint(f[3], 16, 64); err == nil && flags&0x10000 != 0 {
				return true
			}
		}
	}
	return false
}
