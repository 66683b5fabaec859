//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var (
	dumpHeader = regexp.MustCompile(`^([<>]) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}(?: #(\d+) (\S+) -> (\S+))? (?:len=(\d+)|eof)$`)
	dumpLine   = regexp.MustCompile(`^([<>]) ([0-9a-f]{8,})  ((?:[0-9a-f]{2} ){1,8}(?: (?:[0-9a-f]{2} ){0,8})?) *\|([ -~]{1,16})\|$`)
)

// dumpStream is one connection's direction rebuilt from a dump.
type dumpStream struct {
	h   interface{ Sum([]byte) []byte }
	w   io.Writer
	n   int64
	eof bool
}

// parseDump checks a dump's structure (every header is followed by exactly
// its lines, offsets run on without gaps, nothing else is interleaved
// inside a block) and rebuilds every direction of every connection. Lines
// that are neither headers nor data lines are returned as others.
func parseDump(t *testing.T, r io.Reader) (streams map[string]*dumpStream, others []string) {
	t.Helper()
	streams = map[string]*dumpStream{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur *dumpStream
	var curMark string
	remaining := 0
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		if remaining > 0 {
			m := dumpLine.FindStringSubmatch(line)
			if m == nil || m[1] != curMark {
				t.Fatalf("dump line %d: %q inside a block, want a %s data line", ln, line, curMark)
			}
			off, _ := strconv.ParseInt(m[2], 16, 64)
			if off != cur.n {
				t.Fatalf("dump line %d: offset %d, want %d", ln, off, cur.n)
			}
			b, err := hex.DecodeString(strings.ReplaceAll(m[3], " ", ""))
			if err != nil || len(b) != len(m[4]) {
				t.Fatalf("dump line %d: bad line %q", ln, line)
			}
			cur.w.Write(b)
			cur.n += int64(len(b))
			remaining -= len(b)
			continue
		}
		m := dumpHeader.FindStringSubmatch(line)
		if m == nil {
			if dumpLine.MatchString(line) {
				t.Fatalf("dump line %d: data line %q outside a block", ln, line)
			}
			others = append(others, line)
			continue
		}
		key := m[1] + m[2]
		if cur = streams[key]; cur == nil {
			h := sha256.New()
			cur = &dumpStream{h: h, w: h}
			streams[key] = cur
		}
		if cur.eof {
			t.Fatalf("dump line %d: %q after end of file", ln, line)
		}
		curMark = m[1]
		if m[5] == "" {
			cur.eof = true
			continue
		}
		remaining, _ = strconv.Atoi(m[5])
	}
	if remaining > 0 {
		t.Fatalf("dump ends inside a block")
	}
	return streams, others
}

func (s *dumpStream) sum() string { return hex.EncodeToString(s.h.Sum(nil)) }

// TestHexdumpLossless sends 16 MiB of random data each way at once with
// the dump in a file (1 MiB under the race detector, which makes the
// formatter many times slower); rebuilding each direction from the dump
// gives back every byte, while stdout still carries exactly the bytes
// received.
func TestHexdumpLossless(t *testing.T) {
	size := int64(16 << 20)
	if raceBuild {
		size = 1 << 20
	}
	aPath, aSum := randomFile(t, size, 11)
	bPath, bSum := randomFile(t, size, 12)
	dump := filepath.Join(t.TempDir(), "dump")
	fa, _ := os.Open(aPath)
	defer fa.Close()
	fb, _ := os.Open(bPath)
	defer fb.Close()
	outL, outC := newHashWriter(), newHashWriter()
	l := start(t, opts{stdin: fa, stdout: outL}, "-l", "127.0.0.1", "0", "-v", "--hexdump-file", dump)
	c := start(t, opts{stdin: io.Reader(struct{ io.Reader }{fb}), stdout: outC}, "127.0.0.1", l.port())
	if st := c.wait(); st != 0 {
		t.Fatalf("connector exit %d: %s", st, c.stderr())
	}
	if st := l.wait(); st != 0 {
		t.Fatalf("listener exit %d: %s", st, l.stderr())
	}
	if outL.sum() != bSum || outC.sum() != aSum {
		t.Fatal("stdout does not carry exactly the bytes received")
	}
	f, err := os.Open(dump)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	streams, others := parseDump(t, f)
	if len(others) != 0 {
		t.Fatalf("unexpected lines in the dump: %q", others[:min(3, len(others))])
	}
	// The listener sent a ('>') and received b ('<').
	if s := streams[">"]; s == nil || s.sum() != aSum || !s.eof {
		t.Errorf("'>' direction does not rebuild the bytes sent")
	}
	if s := streams["<"]; s == nil || s.sum() != bSum || !s.eof {
		t.Errorf("'<' direction does not rebuild the bytes received")
	}
}

// TestHexdumpRelayBlocks: a relay dumping to stderr with -v and many
// connections at once; every block stays whole (its lines follow their own
// header), log lines never land inside one, and each connection's two
// directions rebuild exactly.
func TestHexdumpRelayBlocks(t *testing.T) {
	echo := newEchoServer(t)
	p, port := startRelay(t, "-x", "listen:127.0.0.1:0", "127.0.0.1:"+echo.port)
	const clients, size = 8, 256 << 10
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			roundTrip(t, "127.0.0.1:"+port, size, uint64(100+i))
		}()
	}
	wg.Wait()
	p.waitLines(`#\d+ closed `, clients)
	p.signal(syscall.SIGTERM)
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d", st)
	}
	streams, others := parseDump(t, strings.NewReader(p.stderr()))
	for _, o := range others {
		if !regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3} (listening|#\d+ (open|closed)) `).MatchString(o) {
			t.Errorf("stray line %q", o)
		}
	}
	ids := map[string]bool{}
	for key, s := range streams {
		if s.n != size || !s.eof {
			t.Errorf("stream %s: %d bytes, eof %v", key, s.n, s.eof)
		}
		ids[key[1:]] = true
		// An echo: both directions of a connection carry the same bytes.
		if o := streams[map[byte]string{'>': "<", '<': ">"}[key[0]]+key[1:]]; o == nil || o.sum() != s.sum() {
			t.Errorf("connection %s: directions differ", key[1:])
		}
	}
	if len(ids) != clients {
		t.Errorf("dump shows %d connections, want %d", len(ids), clients)
	}
}

// TestHexdumpColor: no colour when the dump is not a terminal (here a
// pipe, and a file), colour with --color always, and NO_COLOR honoured by
// auto.
func TestHexdumpColor(t *testing.T) {
	for _, c := range []struct {
		args  []string
		env   []string
		color bool
	}{
		{[]string{"-x"}, nil, false},
		{[]string{"-x", "--color", "auto"}, nil, false},
		{[]string{"-x", "--color", "always"}, nil, true},
		{[]string{"-x", "--color", "always"}, []string{"NO_COLOR=1"}, true},
		{[]string{"-x", "--color", "never"}, nil, false},
	} {
		l, port := listen(t)
		serveOne(t, l, func(c *net.TCPConn) { io.Copy(c, c) })
		_, stderr, st := runGNC(t, opts{stdin: "colour?\n", env: c.env}, append(c.args, "127.0.0.1", port)...)
		if st != 0 || !strings.Contains(stderr, "|colour?.|") {
			t.Fatalf("%v: exit %d, stderr %q", c.args, st, stderr)
		}
		if has := strings.Contains(stderr, "\x1b["); has != c.color {
			t.Errorf("%v %v: colour %v, want %v", c.args, c.env, has, c.color)
		}
	}
	// A file is never coloured by auto.
	dump := filepath.Join(t.TempDir(), "dump")
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) { io.Copy(c, c) })
	if _, stderr, st := runGNC(t, opts{stdin: "x"}, "--hexdump-file", dump, "127.0.0.1", port); st != 0 {
		t.Fatalf("exit %d: %s", st, stderr)
	}
	if b, _ := os.ReadFile(dump); bytes.Contains(b, []byte("\x1b[")) || !bytes.Contains(b, []byte("|x|")) {
		t.Fatalf("file dump %q", b)
	}
}

// TestHexdumpAppend: --append adds to a dump file; without it the file is
// replaced.
func TestHexdumpAppend(t *testing.T) {
	dump := filepath.Join(t.TempDir(), "dump")
	run := func(msg string, extra ...string) {
		l, port := listen(t)
		serveOne(t, l, func(c *net.TCPConn) { io.Copy(io.Discard, c) })
		args := append([]string{"--hexdump-file", dump}, extra...)
		if _, stderr, st := runGNC(t, opts{stdin: msg}, append(args, "127.0.0.1", port)...); st != 0 {
			t.Fatalf("exit %d: %s", st, stderr)
		}
	}
	run("first")
	run("second", "--append")
	b, _ := os.ReadFile(dump)
	if !bytes.Contains(b, []byte("|first|")) || !bytes.Contains(b, []byte("|second|")) {
		t.Fatalf("--append lost a dump:\n%s", b)
	}
	run("third")
	b, _ = os.ReadFile(dump)
	if bytes.Contains(b, []byte("|first|")) || !bytes.Contains(b, []byte("|third|")) {
		t.Fatalf("without --append the file was not replaced:\n%s", b)
	}
}

// TestHexdumpKeepOpen: with -k each client's blocks name it.
func TestHexdumpKeepOpen(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	l := start(t, opts{stdin: pr, stdout: io.Discard}, "-lk", "-x", "127.0.0.1", "0", "-v")
	port := l.port()
	for i := range 3 {
		c := dial(t, port)
		fmt.Fprintf(c, "client %d", i)
		c.Close()
	}
	m := l.waitLines(`^< \S+ \S+ #(\d+) 127\.0\.0\.1:\d+ -> stdio len=8$`, 3)
	if m[0][1] == m[1][1] || m[1][1] == m[2][1] {
		t.Fatalf("clients share an id: %v", m)
	}
	l.stop(syscall.SIGTERM, 143)
}

// TestHexdumpFullDisk: a dump that cannot be written (/dev/full) is
// reported once, as soon as it fails (the connection still open), as one
// "gnc: hex dump: ..." line; the traffic still arrives whole, and gnc
// exits 0, since the transfer itself succeeded.
func TestHexdumpFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	payload := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{21}).Read(payload)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	out := newHashWriter()
	l := start(t, opts{stdout: out}, "-l", "127.0.0.1", "0", "-v", "--hexdump-file", "/dev/full")
	c := start(t, opts{stdin: pr}, "127.0.0.1", l.port())
	pw.Write(payload)
	l.waitLine(`^gnc: hex dump: `)
	pw.Write(payload)
	pw.Close()
	if st := c.wait(); st != 0 {
		t.Fatalf("connector exit %d: %s", st, c.stderr())
	}
	if st := l.wait(); st != 0 {
		t.Errorf("listener exit %d, want 0: %s", st, l.stderr())
	}
	h := sha256.New()
	h.Write(payload)
	h.Write(payload)
	if out.sum() != hex.EncodeToString(h.Sum(nil)) {
		t.Error("the traffic did not arrive whole")
	}
	var reports []string
	for _, line := range strings.Split(l.stderr(), "\n") {
		if strings.Contains(line, "hex dump") {
			reports = append(reports, line)
		}
	}
	if len(reports) != 1 || reports[0] != "gnc: hex dump: write /dev/full: no space left on device" {
		t.Errorf("hex dump reports %q, want one line naming /dev/full and ENOSPC", reports)
	}
}
