package relay

import (
	"bytes"
	"context"
	"io"
	"os"
	"sync"
	"testing"
	"time"
)

// fakeProcess is a Process conn whose "program" the test plays: it reads
// what the engine writes from in and writes its output to out.
type fakeProcess struct {
	r, w    *os.File // the engine's ends: the output's read end, the input's write end
	in, out *os.File // the program's ends

	mu     sync.Mutex
	exited func()
	gone   bool
	ended  chan struct{} // closed by exit
	reaped chan bool     // Reap's hurry
	closed chan struct{}
	once   sync.Once
}

func newFakeProcess(t *testing.T) *fakeProcess {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeProcess{r: outR, w: inW, in: inR, out: outW, ended: make(chan struct{}), reaped: make(chan bool, 1), closed: make(chan struct{})}
	t.Cleanup(func() {
		for _, f := range []*os.File{inR, inW, outR, outW} {
			f.Close()
		}
	})
	return p
}

func (p *fakeProcess) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *fakeProcess) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p *fakeProcess) ReadHalf() io.Reader         { return p.r }
func (p *fakeProcess) WriteHalf() io.Writer        { return p.w }
func (p *fakeProcess) CloseWrite() error           { return p.w.Close() }
func (p *fakeProcess) Close() error {
	p.once.Do(func() { close(p.closed) })
	p.r.Close()
	p.w.Close()
	return nil
}

func (p *fakeProcess) BindExit(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone {
		go f()
		return
	}
	p.exited = f
}

// exit plays the program's exit: its ends close and the conn says so.
func (p *fakeProcess) exit() {
	p.in.Close()
	p.out.Close()
	p.mu.Lock()
	p.gone = true
	f := p.exited
	p.mu.Unlock()
	close(p.ended)
	if f != nil {
		f()
	}
}

func (p *fakeProcess) Reap(hurry bool) string {
	p.reaped <- hurry
	select {
	case <-p.ended:
		return "exit 0"
	case <-time.After(time.Second):
		p.exit()
		return "killed by SIGTERM"
	}
}

// TestProcessExitEnds: once the program has exited and its output has
// been delivered, the pairing ends although the peer is still connected
// and silent; the peer gets all the output, then end of file; Pair reaps
// the program and reports how it ended.
func TestProcessExitEnds(t *testing.T) {
	for _, exitFirst := range []bool{false, true} {
		client, a := tcpPair(t)
		p := newFakeProcess(t)
		done := make(chan Result, 1)
		go func() { done <- Pair(context.Background(), ownTCP{a}, p, Options{}) }()
		if exitFirst {
			// Exited, but its output is not all delivered yet: the
			// pairing waits for the rest.
			p.out.Write([]byte("bye"))
			p.mu.Lock()
			p.gone = true
			f := p.exited
			p.mu.Unlock()
			if f != nil {
				f()
			}
			p.out.Write([]byte(" now"))
			p.in.Close()
			p.out.Close()
			close(p.ended)
		} else {
			p.out.Write([]byte("bye now"))
			p.exit()
		}
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(client)
		if err != nil || string(got) != "bye now" {
			t.Fatalf("client read %q, %v; want the whole output and EOF", got, err)
		}
		r := waitResult(t, done)
		if r.Reason != "exited" || r.Err != nil || r.Exit != [2]string{"", "exit 0"} || r.Bytes[Backward] != 7 {
			t.Errorf("exit first %v: Result %+v; want reason exited, no error, Exit [\"\" \"exit 0\"], 7 bytes back", exitFirst, r)
		}
		if hurry := <-p.reaped; hurry {
			t.Error("Reap was told to hurry, but nothing cancelled the pairing")
		}
	}
}

// TestProcessInputGone: a program that closes its stdin while the peer
// still sends does not fail the pairing: what the peer sends is dropped
// (so it is never blocked), and the program's later output still reaches
// the peer.
func TestProcessInputGone(t *testing.T) {
	client, a := tcpPair(t)
	p := newFakeProcess(t)
	done := make(chan Result, 1)
	go func() { done <- Pair(context.Background(), ownTCP{a}, p, Options{}) }()
	p.in.Close() // the program will read no more
	sent := make(chan error, 1)
	go func() {
		// More than any pipe or socket buffer holds.
		_, err := client.Write(bytes.Repeat([]byte("x"), 16<<20))
		if err == nil {
			err = client.CloseWrite()
		}
		sent <- err
	}()
	select {
	case err := <-sent:
		if err != nil {
			t.Fatalf("the peer's send failed: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the peer is blocked: what it sent after the program closed its input was not dropped")
	}
	p.out.Write([]byte("late answer"))
	p.exit()
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "late answer" {
		t.Fatalf("client read %q, %v; want the late answer and EOF", got, err)
	}
	if r := waitResult(t, done); r.Err != nil || r.Exit[1] != "exit 0" {
		t.Errorf("Result %+v: want no error and the exit status", r)
	}
}

// TestProcessCancelHurries: a cancelled pairing tells Reap to hurry, and
// Pair waits for the reaping.
func TestProcessCancelHurries(t *testing.T) {
	_, a := tcpPair(t)
	p := newFakeProcess(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	go func() { done <- Pair(ctx, ownTCP{a}, p, Options{}) }()
	cancel()
	select {
	case <-p.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled pairing did not close the process conn")
	}
	if hurry := <-p.reaped; !hurry {
		t.Error("Reap was not told to hurry for a cancelled pairing")
	}
	r := waitResult(t, done)
	if r.Reason != "cancelled" || r.Exit[1] != "killed by SIGTERM" {
		t.Errorf("Result %+v: want reason cancelled and Reap's word", r)
	}
}
