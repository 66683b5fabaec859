package conn

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"gnc/relay"
)

// StdioOptions shape the stdio endpoint.
type StdioOptions struct {
	// CRLF turns each lone LF read from stdin into CRLF (-C).
	CRLF bool
	// RecvOnly never reads stdin (-d): nothing is sent and the network
	// side is never half-closed on its account.
	RecvOnly bool
	// SendOnly discards what arrives instead of writing it to stdout.
	SendOnly bool
	// Shared lets the endpoint be opened any number of times at once
	// (listen -k): stdin goes to every open conn, and each conn's bytes go
	// to stdout in whole chunks, never interleaved inside one.
	Shared bool
}

// Stdio is the endpoint of the process's standard input and output.
//
// To splice and to cancel reads without leaving goroutines blocked, it
// puts pipes, sockets and terminals on fds 0 and 1 into non-blocking mode
// so that Go's poller can wait on them; Close puts every flag back as it
// found it, so the shell and processes sharing the descriptors are not
// left with non-blocking files.
type Stdio struct {
	opt     StdioOptions
	in, out *os.File
	restore []func()
	tty     bool
	used    atomic.Bool
	hub     *hub
}

// NewStdio prepares fds 0 and 1. Call Close when done, even after errors
// elsewhere, to restore their flags.
func NewStdio(o StdioOptions) *Stdio {
	s := &Stdio{opt: o}
	s.in = s.prepare(0, "/dev/stdin", true)
	s.out = s.prepare(1, "/dev/stdout", false)
	s.tty = term.IsTerminal(0)
	if o.Shared {
		s.hub = &hub{s: s, members: make(map[*member]struct{})}
	}
	return s
}

// prepare makes fd pollable when it is a pipe, a socket, or (for input) a
// terminal, and wraps it in a fresh *os.File, which Go registers with its
// poller because the descriptor is now non-blocking.
func (s *Stdio) prepare(fd int, name string, input bool) *os.File {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil // closed: reads see end of file, writes are dropped
	}
	mode := st.Mode & unix.S_IFMT
	want := mode == unix.S_IFIFO || mode == unix.S_IFSOCK || (input && mode == unix.S_IFCHR && term.IsTerminal(fd))
	if mode == unix.S_IFIFO {
		// A larger pipe lets the process at the other end run further ahead,
		// halving the context switches per byte; best effort.
		if size, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil && size < 1<<20 {
			unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, 1<<20)
		}
	}
	if want {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err == nil && flags&unix.O_NONBLOCK == 0 {
			// The flag lives on the open file description, which other
			// processes may share; keep a duplicate so it can be cleared
			// even after fd itself is closed.
			if dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3); err == nil {
				if unix.SetNonblock(fd, true) == nil {
					s.restore = append(s.restore, func() {
						unix.SetNonblock(dup, false)
						unix.Close(dup)
					})
				} else {
					unix.Close(dup)
				}
			}
		}
	}
	return os.NewFile(uintptr(fd), name)
}

// String names the endpoint in messages.
func (s *Stdio) String() string { return "stdio" }

// SingleUse reports whether the endpoint can be opened only once: always,
// unless it is Shared.
func (s *Stdio) SingleUse() bool { return !s.opt.Shared }

// Interactive reports whether a person types into stdin; a session with
// such a stdin ends when the peer's side does.
func (s *Stdio) Interactive() bool { return s.tty && !s.opt.RecvOnly }

// Close puts the descriptors' flags back. It does not close fds 0 and 1.
func (s *Stdio) Close() error {
	if s.hub != nil {
		s.hub.shutdown()
	}
	for _, r := range s.restore {
		r()
	}
	s.restore = nil
	return nil
}

// Open returns the conn of standard I/O. Unless the endpoint is Shared it
// can be opened only once; later calls fail with relay.ErrExhausted.
func (s *Stdio) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	if s.hub != nil {
		return s.hub.join()
	}
	if s.used.Swap(true) {
		return nil, fmt.Errorf("stdio: %w", relay.ErrExhausted)
	}
	c := &stdioConn{s: s, r: s.reader(), w: io.Discard}
	if !s.opt.SendOnly && s.out != nil {
		c.w = s.out
	}
	return c, nil
}

// reader is stdin as the engine reads it; nil when stdin is never read.
func (s *Stdio) reader() io.Reader {
	if s.opt.RecvOnly {
		return nil
	}
	var r io.Reader = s.in
	if s.in == nil {
		r = eofReader{}
	}
	if s.opt.CRLF {
		r = &crlfReader{r: r}
	}
	return r
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// stdioConn is standard I/O as one conn. Its halves are the *os.File
// values themselves, so the engine can splice them.
type stdioConn struct {
	s         *Stdio
	r         io.Reader
	w         io.Writer
	closeOnce sync.Once
}

func (c *stdioConn) Read(p []byte) (int, error) {
	if c.r == nil {
		return 0, io.EOF
	}
	return c.r.Read(p)
}
func (c *stdioConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c *stdioConn) ReadHalf() io.Reader         { return c.r }
func (c *stdioConn) WriteHalf() io.Writer        { return c.w }
func (c *stdioConn) EndsWithPeer() bool          { return c.s.Interactive() }
func (c *stdioConn) String() string              { return "stdio" }

// CloseWrite closes stdout, so that whatever reads it sees end of file;
// a terminal is left open, as closing it tells nobody anything.
func (c *stdioConn) CloseWrite() error {
	if c.w == c.s.out && !term.IsTerminal(1) {
		return c.s.out.Close()
	}
	return nil
}

// Close unblocks any read or write in progress through the files'
// deadlines; the descriptors stay open until the process ends.
func (c *stdioConn) Close() error {
	c.closeOnce.Do(func() {
		past := time.Unix(1, 0)
		if c.s.in != nil {
			c.s.in.SetReadDeadline(past)
		}
		if c.s.out != nil {
			c.s.out.SetWriteDeadline(past)
		}
	})
	return nil
}

// crlfReader turns each LF not already preceded by CR into CRLF (-C).
type crlfReader struct {
	r      io.Reader
	lastCR bool
	in     []byte
	buf    []byte // reused for converted bytes
	out    []byte // converted bytes not yet returned, inside buf
	err    error  // the error that came with them, returned after them
}

func (c *crlfReader) Read(p []byte) (int, error) {
	if len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.in == nil {
			c.in = make([]byte, 32<<10)
		}
		n, err := c.r.Read(c.in)
		out := c.buf[:0]
		for _, b := range c.in[:n] {
			if b == '\n' && !c.lastCR {
				out = append(out, '\r')
			}
			out = append(out, b)
			c.lastCR = b == '\r'
		}
		c.buf, c.out, c.err = out, out, err
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	if len(c.out) == 0 && c.err != nil {
		return n, c.err
	}
	return n, nil
}

// hub shares standard I/O among many conns: one goroutine reads stdin and
// hands each chunk to every member, waiting until all have taken it, so
// memory stays at one chunk and a slow member slows stdin, never loses it.
type hub struct {
	s       *Stdio
	mu      sync.Mutex
	members map[*member]struct{}
	eof     bool
	started bool
	outMu   sync.Mutex
	done    chan struct{}
}

type member struct {
	h       *hub
	chunks  chan []byte
	taken   chan struct{}
	eof     chan struct{}
	closed  chan struct{}
	once    sync.Once
	pending []byte
}

func (h *hub) join() (io.ReadWriteCloser, error) {
	m := &member{h: h, chunks: make(chan []byte, 1), taken: make(chan struct{}, 1), eof: make(chan struct{}), closed: make(chan struct{})}
	if h.s.opt.RecvOnly {
		return m, nil // ReadHalf is nil: the engine never reads it
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.eof {
		close(m.eof)
	} else {
		h.members[m] = struct{}{}
	}
	if !h.started && !h.eof {
		h.started = true
		h.done = make(chan struct{})
		go h.broadcast()
	}
	return m, nil
}

func (h *hub) broadcast() {
	defer close(h.done)
	r := h.s.reader()
	buf := make([]byte, 64<<10)
	var got []*member
	for {
		n, err := r.Read(buf)
		if n > 0 {
			h.mu.Lock()
			got = got[:0]
			for m := range h.members {
				got = append(got, m)
			}
			h.mu.Unlock()
			sent := got[:0]
			for _, m := range got {
				select {
				case m.chunks <- buf[:n]:
					sent = append(sent, m)
				case <-m.closed:
				}
			}
			for _, m := range sent {
				select {
				case <-m.taken:
				case <-m.closed:
				}
			}
		}
		if err != nil {
			h.mu.Lock()
			h.eof = true
			for m := range h.members {
				close(m.eof)
			}
			h.members = map[*member]struct{}{}
			h.mu.Unlock()
			return
		}
	}
}

// shutdown stops the stdin reader through its deadline and waits for it.
func (h *hub) shutdown() {
	h.mu.Lock()
	started := h.started
	h.mu.Unlock()
	if started && h.s.in != nil {
		h.s.in.SetReadDeadline(time.Unix(1, 0))
		<-h.done
	}
}

func (m *member) Read(p []byte) (int, error) {
	if len(m.pending) == 0 {
		select {
		case b := <-m.chunks:
			m.pending = b
		case <-m.eof:
			// The broadcaster closes eof only after every chunk was taken.
			return 0, io.EOF
		case <-m.closed:
			return 0, net.ErrClosed
		}
	}
	n := copy(p, m.pending)
	m.pending = m.pending[n:]
	if len(m.pending) == 0 {
		m.taken <- struct{}{}
	}
	return n, nil
}

// Write sends one chunk to stdout whole, under the hub's lock, so two
// clients' bytes never interleave inside a chunk.
func (m *member) Write(p []byte) (int, error) {
	if m.h.s.opt.SendOnly || m.h.s.out == nil {
		return len(p), nil
	}
	m.h.outMu.Lock()
	defer m.h.outMu.Unlock()
	return m.h.s.out.Write(p)
}

// ReadHalf is the member itself, or nil with -d, so that, as with a
// single stdio conn, a client is never half-closed for a stdin nobody reads.
func (m *member) ReadHalf() io.Reader {
	if m.h.s.opt.RecvOnly {
		return nil
	}
	return m
}

// WriteHalf is the member itself.
func (m *member) WriteHalf() io.Writer { return m }

// CloseWrite does nothing: stdout is shared with the other members.
func (m *member) CloseWrite() error { return nil }

// EndsWithPeer is always true: the shared stdin may never end, so a
// client that has finished sending is done (as with ncat --keep-open).
func (m *member) EndsWithPeer() bool { return true }
func (m *member) String() string     { return "stdio" }

func (m *member) Close() error {
	m.once.Do(func() {
		close(m.closed)
		m.h.mu.Lock()
		delete(m.h.members, m)
		m.h.mu.Unlock()
	})
	return nil
}
