package conn

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// testStdin is a stdin for a hub: the test writes to w; stop ends a read
// in progress, as cancelling stdin would.
func testStdin() (src io.Reader, stop func(), w *io.PipeWriter) {
	r, w := io.Pipe()
	return r, func() { r.CloseWithError(errors.New("stopped")) }, w
}

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// readAll reads m to its end with reads of size bufSize, as the engine
// would, and hashes what it got.
func readAll(m *member, bufSize int) ([32]byte, int, error) {
	h := sha256.New()
	buf := make([]byte, bufSize)
	total := 0
	for {
		n, err := m.Read(buf)
		h.Write(buf[:n])
		total += n
		if err == io.EOF {
			var sum [32]byte
			copy(sum[:], h.Sum(nil))
			return sum, total, nil
		}
		if err != nil {
			return [32]byte{}, total, err
		}
	}
}

// TestHubMembersClosedMidChunk closes members while they are reading
// (as an aborted pairing does, from another goroutine) and checks, under
// -race, that no member copies from a chunk the broadcaster is refilling,
// and that every member left open gets all of stdin intact.
func TestHubMembersClosedMidChunk(t *testing.T) {
	src, stop, w := testStdin()
	h := newHub(src, stop, true, io.Discard)
	defer h.shutdown()
	const survivors, victims = 4, 12
	data := randomBytes(8<<20, 1)
	want := sha256.Sum256(data)

	var ms []*member
	for range survivors + victims {
		ms = append(ms, h.join())
	}
	var wg sync.WaitGroup
	for i, m := range ms[:survivors] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, n, err := readAll(m, 1000+i*777) // reads that end mid-chunk
			if err != nil || sum != want {
				t.Errorf("survivor %d: %d bytes, %v; want all %d intact", i, n, err, len(data))
			}
		}()
	}
	for i, m := range ms[survivors:] {
		wg.Add(2)
		closeAt := (i + 1) * len(data) / (victims + 2)
		reached := make(chan struct{})
		go func() {
			defer wg.Done()
			buf := make([]byte, 1500)
			got, signalled := 0, false
			for {
				n, err := m.Read(buf)
				got += n
				if !signalled && got >= closeAt {
					close(reached) // close it while this goroutine goes on reading
					signalled = true
				}
				if err != nil {
					if !signalled {
						close(reached)
					}
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			<-reached
			m.Close()
		}()
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	w.Close()
	wg.Wait()
}

// TestHubDropsStalledMember: a member that never reads is dropped, with
// ErrStalled through its abort function, after stallTimeout of others
// waiting; the others get all of stdin intact.
func TestHubDropsStalledMember(t *testing.T) {
	src, stop, w := testStdin()
	h := newHub(src, stop, true, io.Discard)
	defer h.shutdown()
	data := randomBytes(4<<20, 2)
	want := sha256.Sum256(data)

	stalled := h.join()
	aborted := make(chan error, 2)
	stalled.BindAbort(func(err error) {
		aborted <- err
		stalled.Close() // as the engine's abort does
	})
	var wg sync.WaitGroup
	for i := range 3 {
		m := h.join()
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, n, err := readAll(m, 32<<10)
			if err != nil || sum != want {
				t.Errorf("reader %d: %d bytes, %v; want all %d intact", i, n, err, len(data))
			}
		}()
	}
	t0 := time.Now()
	go func() {
		w.Write(data)
		w.Close()
	}()
	select {
	case err := <-aborted:
		d := time.Since(t0)
		if !errors.Is(err, ErrStalled) {
			t.Errorf("aborted with %v, want ErrStalled", err)
		}
		if d < stallTimeout || d > stallTimeout+time.Second {
			t.Errorf("dropped after %v, want about %v", d, stallTimeout)
		}
	case <-time.After(stallTimeout + 10*time.Second):
		t.Fatal("the member that never reads was not dropped")
	}
	wg.Wait()
	if n, err := stalled.Read(make([]byte, 10)); n != 0 || err == nil {
		t.Errorf("dropped member read %d bytes, %v; want an error", n, err)
	}
}

// TestHubLoneSlowMemberKept: a member that pauses longer than
// stallTimeout while nobody waits for it is not dropped.
func TestHubLoneSlowMemberKept(t *testing.T) {
	src, stop, w := testStdin()
	h := newHub(src, stop, true, io.Discard)
	defer h.shutdown()
	data := randomBytes(1<<20, 3)
	m := h.join()
	m.BindAbort(func(err error) { t.Errorf("lone member aborted: %v", err) })
	go func() {
		w.Write(data)
		w.Close()
	}()
	time.Sleep(stallTimeout + 500*time.Millisecond) // the pause under test
	sum, n, err := readAll(m, 50000)
	if err != nil || sum != sha256.Sum256(data) {
		t.Fatalf("got %d bytes, %v; want all %d intact", n, err, len(data))
	}
}

// TestHubWholeChunksOnStdout: each member's Write reaches stdout whole,
// never interleaved with another member's.
func TestHubWholeChunksOnStdout(t *testing.T) {
	var out lockedWriter
	h := newHub(nil, nil, true, &out)
	const members, writes, size = 8, 50, 10000
	var wg sync.WaitGroup
	for i := range members {
		m := h.join()
		wg.Add(1)
		go func() {
			defer wg.Done()
			chunk := bytes.Repeat([]byte{byte('a' + i)}, size)
			for range writes {
				if n, err := m.Write(chunk); n != size || err != nil {
					t.Errorf("write: %d, %v", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(out.calls) != members*writes {
		t.Fatalf("%d writes reached stdout, want %d", len(out.calls), members*writes)
	}
	for _, c := range out.calls {
		if len(c) != size || bytes.Count(c, c[:1]) != size {
			t.Fatalf("a write of %d bytes mixes members' bytes", len(c))
		}
	}
}

// lockedWriter records each Write; it fails the test if two overlap.
type lockedWriter struct {
	mu    sync.Mutex
	busy  bool
	calls [][]byte
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.busy {
		w.mu.Unlock()
		return 0, errors.New("overlapping writes")
	}
	w.busy = true
	w.mu.Unlock()
	c := bytes.Clone(p)
	w.mu.Lock()
	w.busy = false
	w.calls = append(w.calls, c)
	w.mu.Unlock()
	return len(p), nil
}
