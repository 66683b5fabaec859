package tty

import (
	"errors"
	"io"
)

// ErrDisconnect is what an EscapeFilter's Read returns once the user has
// typed the ~. escape. It is not a failure: gnc ends the session and
// exits 0.
var ErrDisconnect = errors.New("disconnected by ~.")

// EscapeHelp is what ~? prints: the escapes an EscapeFilter knows, with
// CRLF line ends, as it is written while the terminal is raw.
const EscapeHelp = "gnc: escapes, at the start of the session or right after Enter:\r\n" +
	"gnc:   ~.  disconnect\r\n" +
	"gnc:   ~?  this list\r\n" +
	"gnc:   ~~  send one ~\r\n"

// EscapeFilter passes raw keystrokes through unchanged, except for the
// escapes ssh has: a ~ typed at the start of the input, or right after a
// carriage return or a newline, is held back and decides, with the byte
// that follows it, what happens:
//
//   - ~. disconnects: Read returns ErrDisconnect (after whatever came
//     before the ~), and the bytes after it are never sent;
//   - ~? writes EscapeHelp to the help writer and sends nothing; an escape
//     may follow at once;
//   - ~~ sends one ~;
//   - ~ and any other byte sends both, the held ~ first.
//
// Every other byte passes in order, unchanged, Ctrl-C and Ctrl-D
// included. A held ~ at the end of the input is sent before io.EOF.
//
// An EscapeFilter is not safe for concurrent use: its input has one
// reader.
type EscapeFilter struct {
	r    io.Reader
	help io.Writer

	lineStart bool   // the next byte comes at the start of a line
	held      bool   // a ~ at the start of a line waits for its next byte
	in        []byte // read buffer
	rest      []byte // input not yet filtered, inside in
	err       error  // what to return once the input filtered so far is out
}

// escapeBuf is how much an EscapeFilter reads at a time: keystrokes come
// a few at a time, pastes in a terminal's chunks.
const escapeBuf = 4 << 10

// NewEscapeFilter returns an EscapeFilter reading r, the terminal, that
// writes EscapeHelp to help (stderr) on ~?. A nil help drops it.
func NewEscapeFilter(r io.Reader, help io.Writer) *EscapeFilter {
	return &EscapeFilter{r: r, help: help, lineStart: true}
}

// Read fills p with filtered keystrokes, blocking until at least one is
// ready or the input ends.
func (f *EscapeFilter) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if n := f.filter(p); n > 0 {
			return n, nil
		}
		if f.err != nil {
			if f.held && f.err == io.EOF {
				f.held = false
				p[0] = '~'
				return 1, nil
			}
			return 0, f.err
		}
		if f.in == nil {
			f.in = make([]byte, escapeBuf)
		}
		n, err := f.r.Read(f.in)
		f.rest, f.err = f.in[:n], err
	}
}

// filter moves bytes of f.rest into p through the escape rules and
// returns how many it put there.
func (f *EscapeFilter) filter(p []byte) int {
	n := 0
	for len(f.rest) > 0 && n < len(p) {
		b := f.rest[0]
		switch {
		case f.held:
			f.held = false
			switch b {
			case '.':
				// Nothing typed after ~. is sent.
				f.rest, f.err = nil, ErrDisconnect
				return n
			case '?':
				if f.help != nil {
					io.WriteString(f.help, EscapeHelp)
				}
				// Still at the start of a line: another escape may follow.
			case '~':
				p[n] = '~'
				n++
				f.lineStart = false
			default:
				// Not an escape: send the ~, then b as any other byte
				// (it stays in f.rest for the next turn).
				p[n] = '~'
				n++
				f.lineStart = false
				continue
			}
		case f.lineStart && b == '~':
			f.held = true
		default:
			p[n] = b
			n++
			f.lineStart = b == '\r' || b == '\n'
		}
		f.rest = f.rest[1:]
	}
	return n
}
