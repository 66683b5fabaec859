package conn

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"gnc/relay"
	"gnc/tty"
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
	// Terminal says what gnc does with a terminal on stdin or stdout; the
	// zero value uses them as they are, as for a pipe.
	Terminal TerminalOptions
}

// TerminalOptions say how the stdio endpoint treats terminals. Each
// applies only where the descriptors it needs are terminals; pipes, files
// and /dev/null are used byte for byte as they are whatever is set here.
type TerminalOptions struct {
	// Line, when not nil and both stdin and stdout are terminals, makes
	// gnc edit lines itself (arrow keys, history) and send each one at
	// Enter, showing what arrives above the line being typed.
	Line *tty.LineOptions
	// Raw puts a terminal on stdin in raw mode and sends every keystroke
	// at once (--raw), Ctrl-C included; "~." after Enter disconnects.
	// It wins over Line, and what arrives is written unchanged.
	Raw bool
	// Safe shows the bytes that would act on a terminal on stdout
	// (escape sequences, other controls, invalid UTF-8) visibly instead.
	Safe bool
	// Colour shows those bytes dim.
	Colour bool
	// Help receives the list of raw mode's escapes ("~?"); nil: none.
	Help io.Writer
}

// Stdio is the endpoint of the process's standard input and output.
//
// Fds 0 and 1 belong to open file descriptions gnc shares with the shell
// and the rest of a pipeline, so gnc never changes their status flags
// (O_NONBLOCK above all: a writer sharing a pipe with gnc would start
// failing with EAGAIN, and would go on failing after gnc dies). How each
// descriptor is read or written instead depends on the platform and on
// what it is; see openEnd.
type Stdio struct {
	opt     StdioOptions
	in, out *end // nil: not used (-d, --send-only) or closed
	tty     bool // stdin is a terminal
	used    atomic.Bool
	hub     *hub
	outDone sync.Once

	// The terminal modes in force, set up by NewStdio.
	editor  *tty.LineEditor
	raw     io.Reader    // stdin through the escape filter (--raw)
	w       io.Writer    // stdout as the engine writes it
	flush   func() error // what stdout's writer holds back, written out
	restore func() error // puts the terminal back; nil: nothing to undo
}

// NewStdio prepares fds 0 and 1 for the engine. Call Close when done to
// release what it opened and put a terminal back as it was; fds 0 and 1
// themselves are left as they are. Only a terminal mode that cannot be set
// up (a history file that cannot be read) is an error.
func NewStdio(o StdioOptions) (*Stdio, error) { return newStdio(o, 0, 1) }

// newStdio is NewStdio on descriptors in and out, which tests choose.
func newStdio(o StdioOptions, in, out int) (*Stdio, error) {
	s := &Stdio{opt: o, tty: isTerminal(in)}
	if !o.RecvOnly {
		s.in = openEnd(in, true)
	}
	if !o.SendOnly {
		s.out = openEnd(out, false)
	}
	if s.out != nil {
		s.w = s.out.writer()
	}
	if err := s.terminal(in); err != nil {
		s.Close()
		return nil, err
	}
	if o.Shared {
		var out io.Writer
		if s.out != nil {
			out = s.w
		}
		var stop func()
		var waitStop bool
		if s.in != nil {
			stop, waitStop = s.in.cancel, s.in.interruptible
		}
		s.hub = newHub(s.reader(), stop, waitStop, out)
	}
	return s, nil
}

// terminal sets up the terminal modes the options ask for, where stdin
// and stdout are terminals.
func (s *Stdio) terminal(inFD int) error {
	t := s.opt.Terminal
	inTTY := s.in != nil && s.in.tty
	outTTY := s.out != nil && s.out.tty
	switch {
	case t.Raw && inTTY:
		restore, err := tty.MakeRaw(inFD)
		if err != nil {
			return fmt.Errorf("--raw: %w", err)
		}
		s.restore = restore
		s.raw = tty.NewEscapeFilter(s.in.reader(), t.Help)
	case t.Line != nil && inTTY && outTTY && tty.LineEditing && !s.opt.Shared:
		lo := *t.Line
		lo.CRLF = s.opt.CRLF
		lo.Colour = t.Colour
		lo.RawOutput = !t.Safe
		s.editor = tty.NewLineEditor(inFD, s.in.reader(), s.out.writer(), lo)
		restore, err := s.editor.Start()
		if err != nil {
			return err
		}
		s.restore = restore
		out := s.editor.Output()
		s.w, s.flush = out, out.Flush
	case t.Safe && outTTY:
		sw := tty.NewSafeWriter(s.out.writer(), t.Colour)
		s.w, s.flush = sw, sw.Flush
	}
	return nil
}

// RestoreTerminal puts a terminal gnc changed back as it was; it may be
// called any number of times, from any goroutine (a signal's path as well
// as Close's).
func (s *Stdio) RestoreTerminal() error {
	if s.restore == nil {
		return nil
	}
	return s.restore()
}

// String names the endpoint in messages.
func (s *Stdio) String() string { return "stdio" }

// Interactive reports whether a person types into stdin; a session with
// such a stdin ends when the peer's side does.
func (s *Stdio) Interactive() bool { return s.tty && !s.opt.RecvOnly }

// SingleUse reports whether the endpoint can be opened only once: true
// unless it is Shared.
func (s *Stdio) SingleUse() bool { return !s.opt.Shared }

// Close stops the -k stdin reader and closes every descriptor NewStdio
// opened. It does not close fds 0 and 1.
func (s *Stdio) Close() error {
	if s.flush != nil {
		s.flush()
	}
	if s.editor != nil {
		s.editor.Close()
	}
	s.RestoreTerminal()
	if s.hub != nil {
		s.hub.shutdown()
	}
	for _, e := range []*end{s.in, s.out} {
		if e != nil {
			e.release()
		}
	}
	return nil
}

// Open returns the conn of standard I/O. Unless the endpoint is Shared it
// can be opened only once; later calls fail with relay.ErrExhausted.
func (s *Stdio) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	if s.hub != nil {
		return s.hub.join(), nil
	}
	if s.used.Swap(true) {
		return nil, fmt.Errorf("stdio: %w", relay.ErrExhausted)
	}
	c := &stdioConn{s: s, r: s.reader(), w: io.Discard}
	if s.out != nil {
		c.w = s.w
	}
	return c, nil
}

// reader is stdin as the engine reads it; nil when stdin is never read.
func (s *Stdio) reader() io.Reader {
	if s.opt.RecvOnly {
		return nil
	}
	var r io.Reader = eofReader{}
	switch {
	case s.editor != nil:
		return s.editor.Reader() // it ends lines with CRLF itself for -C
	case s.raw != nil:
		r = s.raw
	case s.in != nil:
		r = s.in.reader()
	}
	if s.opt.CRLF {
		r = &crlfReader{r: r}
	}
	return r
}

// closeOut ends gnc's hold on stdout so that its reader sees end of file
// while gnc goes on: every descriptor gnc opened on it is closed and fd 1
// is pointed at /dev/null. Closing fd 1 instead would leave its number
// free for the next descriptor gnc opens (a splice pipe, a socket), where
// any later write to stdout would land. A terminal is left open, as
// closing it tells nobody anything.
func (s *Stdio) closeOut() error {
	var err error
	s.outDone.Do(func() {
		if s.flush != nil {
			s.flush()
		}
		if s.out != nil && !s.out.tty {
			err = s.out.detach()
		}
	})
	return err
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// stdioConn is standard I/O as one conn. Its halves are the *os.File
// values themselves where there are such files, so the engine can splice
// them.
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

// CloseWrite lets whatever reads stdout see end of file (see closeOut).
func (c *stdioConn) CloseWrite() error {
	if c.w == io.Discard {
		return nil
	}
	return c.s.closeOut()
}

// Close unblocks any read or write in progress and fails later ones; the
// descriptors stay open until the endpoint is closed.
func (c *stdioConn) Close() error {
	c.closeOnce.Do(func() {
		for _, e := range []*end{c.s.in, c.s.out} {
			if e != nil {
				e.cancel()
			}
		}
	})
	return nil
}

// end is fd 0 or 1 as gnc reads or writes it, made by openEnd.
type end struct {
	// rw is what the engine reads or writes: an *os.File it can splice
	// where there is one, so it must be handed over unwrapped.
	rw any
	// tty says the descriptor is a terminal.
	tty bool
	// interruptible says cancel reaches a read or write in progress;
	// false where the I/O is blocking and nothing can interrupt it.
	interruptible bool
	// cancel unblocks the I/O in progress, if interruptible, and fails
	// later I/O; it may be called any number of times.
	cancel func()
	// release cancels and closes every descriptor gnc opened for this
	// end; it may be called any number of times.
	release func()
	// detach (output only) releases and also stops fd 1 from referring
	// to stdout, so that gnc holds nothing on it any more.
	detach func() error
}

func (e *end) reader() io.Reader { return e.rw.(io.Reader) }
func (e *end) writer() io.Writer { return e.rw.(io.Writer) }

// StdinSize is how many bytes are left to read on stdin when it is a
// regular file (its size past the current offset), for a progress meter's
// percent; zero when it is anything else.
func StdinSize() int64 {
	// os.Stdin, not a new *os.File: a second one for fd 0 would close it
	// when collected. Stat and a zero Seek change nothing.
	f := os.Stdin
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil || off > fi.Size() {
		return fi.Size()
	}
	return fi.Size() - off
}
