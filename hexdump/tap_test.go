package hexdump

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"gnc/relay"
)

// named is a conn that only has a name, for the dump's headers.
type named string

func (n named) Read([]byte) (int, error)    { return 0, nil }
func (n named) Write(p []byte) (int, error) { return len(p), nil }
func (n named) Close() error                { return nil }
func (n named) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1000 + len(n)}
}

// lockedBuffer is a bytes.Buffer safe for one writer at a time (the
// Dumper's lock) and a reader after it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// runTaps dumps pairings taps at once through d, both directions of each
// at once, in chunks of random sizes (one longer than a block holds),
// and returns what each sent, by pairing id and direction.
func runTaps(d *Dumper, pairings int) map[uint64][2][]byte {
	sent := make(map[uint64][2][]byte)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range pairings {
		id := uint64(i + 1)
		tap := d.Tap(id, named("a"), named("bb"))
		for dir := range 2 {
			wg.Go(func() {
				r := rand.New(rand.NewChaCha8([32]byte{byte(id), byte(dir)}))
				var all []byte
				for k := range 8 {
					n := r.IntN(4096)
					if k == 1 {
						// Longer than a block holds: dumped as several.
						n = maxBlockInput + r.IntN(1000)
					}
					p := make([]byte, n)
					for j := range p {
						p[j] = byte(r.Uint32())
					}
					tap.Chunk(relay.Dir(dir), p)
					all = append(all, p...)
				}
				tap.EOF(relay.Dir(dir))
				mu.Lock()
				s := sent[id]
				s[dir] = all
				sent[id] = s
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return sent
}

// checkDump parses text strictly and checks it holds exactly sent.
func checkDump(t *testing.T, text []byte, sent map[uint64][2][]byte) {
	t.Helper()
	lines, err := parseDump(text)
	if err != nil {
		t.Fatal(err)
	}
	// Split the lines by connection: data lines belong to the header
	// before them, and blocks never mix.
	byID := make(map[uint64][]dumpLine)
	eofs := make(map[uint64]int)
	var cur uint64
	for _, l := range lines {
		if l.header {
			cur = l.id
			if l.n < 0 {
				eofs[cur]++
			}
		}
		byID[cur] = append(byID[cur], l)
	}
	if len(byID) != len(sent) {
		t.Fatalf("dump has %d connections, want %d", len(byID), len(sent))
	}
	for id, want := range sent {
		got, err := streams(byID[id], [2]uint64{})
		if err != nil {
			t.Fatalf("connection %d: %v", id, err)
		}
		for d := range 2 {
			if sha256.Sum256(got[d]) != sha256.Sum256(want[d]) {
				t.Errorf("connection %d direction %d: %d bytes in the dump, %d sent", id, d, len(got[d]), len(want[d]))
			}
		}
		if eofs[id] != 2 {
			t.Errorf("connection %d: %d eof markers, want 2", id, eofs[id])
		}
	}
}

// TestDumperLossless: many taps dumping at once, to a writer directly
// and to a file through the writer goroutine, lose and mix nothing.
func TestDumperLossless(t *testing.T) {
	t.Run("writer", func(t *testing.T) {
		var buf lockedBuffer
		d := NewDumper(&buf, true, false)
		sent := runTaps(d, 4)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		checkDump(t, buf.b.Bytes(), sent)
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "dump")
		d, err := Open(path, false, nil, "always", true)
		if err != nil {
			t.Fatal(err)
		}
		sent := runTaps(d, 4)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkDump(t, text, sent)
	})
}

// failingWriter takes ok bytes, then fails every write with ENOSPC.
type failingWriter struct {
	mu     sync.Mutex
	ok     int
	writes int // after the failure began
}

func (f *failingWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ok >= len(p) {
		f.ok -= len(p)
		return len(p), nil
	}
	f.writes++
	return 0, &os.PathError{Op: "write", Path: "dump", Err: syscall.ENOSPC}
}

// TestDumperErrorOnce: a failing dump is reported once, as it happens,
// through OnError; it stops; the taps never block on it; and Close does
// not report it again. Without OnError, Close reports it.
func TestDumperErrorOnce(t *testing.T) {
	for _, hook := range []bool{true, false} {
		t.Run(fmt.Sprintf("OnError=%v", hook), func(t *testing.T) {
			w := &failingWriter{ok: 100 << 10}
			d := NewDumper(w, true, false)
			var mu sync.Mutex
			var reported []error
			if hook {
				d.OnError = func(err error) {
					mu.Lock()
					defer mu.Unlock()
					reported = append(reported, err)
				}
			}
			runTaps(d, 4)
			err := d.Close()
			switch {
			case !errors.Is(d.Err(), syscall.ENOSPC):
				t.Errorf("Err() = %v, want ENOSPC", d.Err())
			case w.writes != 1:
				t.Errorf("%d writes after the first failure, want none", w.writes-1)
			case hook && (len(reported) != 1 || !errors.Is(reported[0], syscall.ENOSPC) || err != nil):
				t.Errorf("OnError saw %v and Close returned %v; want one ENOSPC and nil", reported, err)
			case !hook && !errors.Is(err, syscall.ENOSPC):
				t.Errorf("Close returned %v, want ENOSPC", err)
			}
			if hook && len(reported) == 1 {
				if got, want := reported[0].Error(), "hex dump: write dump: no space left on device"; got != want {
					t.Errorf("reported %q, want %q", got, want)
				}
			}
		})
	}
}

// TestDumperDevFull: a file dump to /dev/full fails at its first write
// and says so once, while the taps carry on.
func TestDumperDevFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	d, err := Open("/dev/full", false, nil, "never", false)
	if err != nil {
		t.Fatal(err)
	}
	calls := make(chan error, 10)
	d.OnError = func(err error) { calls <- err }
	runTaps(d, 2)
	if err := d.Close(); err != nil {
		t.Errorf("Close: %v, want nil (already reported)", err)
	}
	close(calls)
	var got []error
	for err := range calls {
		got = append(got, err)
	}
	if len(got) != 1 || !errors.Is(got[0], syscall.ENOSPC) {
		t.Errorf("OnError calls %v, want one ENOSPC", got)
	}
}
