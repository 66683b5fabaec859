package tty

import (
	"errors"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"
)

// Why gnc has its own line editor rather than golang.org/x/term's
// Terminal, which has most of the keys asked for (left, right, Home, End,
// Ctrl-A/E/K/U/W, Up/Down history with a pluggable History, bracketed
// paste, Ctrl-D deleting or ending input) and a Write that prints above
// the prompt:
//
//   - Terminal.Write skips its clear-and-redraw whenever its cursor is at
//     column 0 of the first row, which is always so with gnc's default
//     empty prompt once the cursor is at the start of the line (Home, or
//     a line not begun): the peer's data then overwrites the line being
//     edited and the line is not drawn again until the next key.
//   - It has no notion of a peer's line that has not ended ("Password: ",
//     "ftp> "): the prompt is drawn after it, but every later cursor
//     movement is computed as if the row began with the prompt.
//   - Ctrl-C and Ctrl-D on an empty line both end ReadLine with io.EOF.
//   - Home and End as ESC [ 1 ~ / ESC [ 4 ~ (the Linux console, tmux,
//     screen) are not recognised, and ESC O A..H (arrows and Home/End in
//     the application cursor mode many terminals start in) insert the
//     letter into the line.
//
// All of that lives in Terminal's unexported state, out of reach of a
// filter on its input or output. The line editor below keeps x/term's
// key bindings and adds the rest; it uses x/term for the terminal's size.

// ErrInterrupt is what ReadLine returns when Ctrl-C is typed outside a
// paste: the user wants the session to end, and gnc exits 130, as it
// would have on the SIGINT the key makes in a cooked terminal.
var ErrInterrupt = errors.New("interrupted by Ctrl-C")

// errNotStarted is ReadLine's error before Start.
var errNotStarted = errors.New("line editor not started")

// maxLine bounds the runes of the line being edited; keys that would
// make it longer are refused with a bell.
const maxLine = 64 << 10

// LineOptions shape a LineEditor. The zero value edits with no prompt,
// ends lines with LF, keeps DefaultHistorySize lines of history in
// memory, and shows the peer's data through SafeWriter's rendering
// without colour.
type LineOptions struct {
	// Prompt is shown before each line. It may hold SGR sequences, which
	// take no room. Empty: no prompt.
	Prompt string
	// CRLF ends each line sent with CR LF instead of LF (-C).
	CRLF bool
	// HistoryFile, if not empty, is where the history is kept across
	// runs: loaded at Start, created with mode 0600 if missing, appended
	// to as each line is sent, and trimmed to HistorySize lines at Start.
	HistoryFile string
	// HistorySize is how many lines the history keeps. Zero means
	// DefaultHistorySize; negative turns history off (Up and Down do
	// nothing, and HistoryFile is not used).
	HistorySize int
	// Colour shows the bytes Output renders visibly dim.
	Colour bool
	// RawOutput makes Output pass the peer's bytes unchanged
	// (--raw-output). The editor then assumes they do not move the
	// cursor other than by printing, tabs, CR, LF and backspace.
	RawOutput bool
}

// LineEditor edits lines typed on a terminal and sends each one when
// Enter is pressed, while the peer's data is printed above the line being
// edited (see Output). Keys:
//
//	Left, Ctrl-B / Right, Ctrl-F    move by a character
//	Alt-B, Ctrl-Left / Alt-F, Ctrl-Right   move by a word
//	Home, Ctrl-A / End, Ctrl-E      go to the start or end of the line
//	Backspace, Ctrl-H / Delete      delete before / under the cursor
//	Ctrl-K / Ctrl-U                 kill to the end / to the start of the line
//	Ctrl-W / Alt-Backspace, Alt-D   kill a word back (to whitespace / a word
//	                                of letters and digits), a word forward
//	Ctrl-Y                          yank what was killed last
//	Ctrl-T                          transpose characters
//	Up, Ctrl-P / Down, Ctrl-N       older / newer history
//	Ctrl-L                          clear the screen
//	Enter (CR, LF or CR LF)         send the line
//	Ctrl-D                          delete under the cursor; on an empty
//	                                line, end of input (io.EOF)
//	Ctrl-C                          end the session (ErrInterrupt)
//
// Ctrl-Z and Ctrl-\ do nothing: while lines are edited the terminal makes
// no signals of keys.
//
// Text pasted while the terminal brackets pastes (which Start asks for)
// is inserted as it is, controls included (shown as ^X); each line end in
// it sends a line, as if typed.
//
// ReadLine (or Reader) is for one goroutine; Output may be used from
// another at the same time.
type LineEditor struct {
	fd  int // the terminal, for its settings and size; < 0: neither (tests)
	in  io.Reader
	out io.Writer
	opt LineOptions

	// testWidth is the width when fd < 0.
	testWidth int

	mu      sync.Mutex
	started bool
	active  bool  // the edit area is on the screen and keys are read
	endErr  error // why input ended, once it has
	restore func() error
	hist    *history
	render  renderer

	// Input: bytes read but not yet decoded (a key cut by the read, or
	// keys after an Enter, for the next ReadLine).
	inBuf   []byte
	pending []byte
	readErr error
	paste   bool
	lastCR  bool // the last key was a CR, so an LF right after it is not a line

	// The line.
	line    []rune
	pos     int
	killed  []rune
	histIdx int    // -1: the new line; else the history entry shown
	saved   []rune // the new line while history is shown
	bell    bool

	// The screen. Row 0 is the row the peer's text is being written on;
	// the peer's cursor is at column pcol and its text on that row
	// reaches column pmax. The edit area (prompt and line) starts at
	// (oRow, oCol): after both, or on the next row when that is full.
	pcol, pmax     int
	oRow, oCol     int
	curRow, curCol int // where the cursor is
	endRow, endCol int // where the edit area ends
	endWrapped     bool
	width          int // the width the edit area was laid out for
	drawnLen       int // runes of line on the screen, -1 if not known
	dirty          bool
	frame          []byte // what goes to the terminal next, in one write
	peerBuf        []byte // the peer's data, rendered
}

// NewLineEditor returns a line editor for the terminal on fd: it reads
// keys from in and writes to out, both of which should be that terminal
// (in may be a cancellable reader of it, such as the stdio endpoint's;
// fd is used only for the terminal's settings and size). Call Start
// before ReadLine.
func NewLineEditor(fd int, in io.Reader, out io.Writer, opt LineOptions) *LineEditor {
	if opt.HistorySize == 0 {
		opt.HistorySize = DefaultHistorySize
	}
	return &LineEditor{
		fd: fd, in: in, out: out, opt: opt, testWidth: 80,
		render:  renderer{colour: opt.Colour},
		histIdx: -1, drawnLen: -1,
	}
}

// Start loads the history, puts the terminal in raw mode (input only: the
// terminal still processes output), asks it to bracket pastes, and shows
// the prompt. It returns the function that undoes all that: it clears the
// line being edited from the screen, turns bracketed paste off and puts
// the terminal's settings back as they were. That function may be called
// any number of times from any goroutine (a signal handler's, a deferred
// call); the first call restores. ReadLine calls it itself when input
// ends (Ctrl-D, Ctrl-C, a read error), so that the terminal is an
// ordinary one again while the session winds down.
//
// A history file that cannot be read or written is an error naming the
// file; so is a terminal that cannot be made raw, and on systems without
// termios (Windows) Start always fails.
func (e *LineEditor) Start() (restore func() error, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return e.restore, nil
	}
	size := e.opt.HistorySize
	file := e.opt.HistoryFile
	if size < 0 {
		size, file = 0, ""
	}
	h, err := openHistory(file, size)
	if err != nil {
		return nil, err
	}
	termRestore := func() error { return nil }
	if e.fd >= 0 {
		if termRestore, err = makeInputRaw(e.fd); err != nil {
			h.close()
			return nil, err
		}
	}
	e.hist = h
	e.started, e.active = true, true
	e.restore = onceFunc(func() error {
		if e.lockSoon() {
			defer e.mu.Unlock()
			e.deactivateLocked()
		}
		_, werr := io.WriteString(e.out, "\x1b[?2004l")
		err := termRestore()
		if err == nil && werr != nil {
			err = werr
		}
		return err
	})
	e.frame = append(e.frame[:0], "\x1b[?2004h"...)
	e.drawArea()
	e.flush()
	return e.restore, nil
}

// Close restores the terminal (as Start's function does), closes the
// history file and reports the first failure to append to it.
func (e *LineEditor) Close() error {
	var err error
	if e.restore != nil {
		err = e.restore()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hist != nil {
		if herr := e.hist.close(); herr != nil {
			err = herr
		}
	}
	return err
}

// lockSoon takes e.mu if it can within restoreWait. The lock is held only
// for a redraw, but a redraw's write may be stuck on a terminal that does
// not drain, and restoring the terminal's settings matters more than a
// tidy screen.
func (e *LineEditor) lockSoon() bool {
	deadline := time.Now().Add(restoreWait)
	for !e.mu.TryLock() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// restoreWait bounds how long restoring waits to tidy the screen.
const restoreWait = 200 * time.Millisecond

// deactivateLocked takes the edit area off the screen, leaving the cursor
// where the peer's text ends, and stops treating the terminal as raw.
func (e *LineEditor) deactivateLocked() {
	if !e.active {
		return
	}
	e.clearArea()
	e.toPeer()
	e.flush()
	e.active = false
	if e.endErr == nil {
		e.endErr = io.EOF
	}
}

// ReadLine returns the next line typed, with "\n" appended ("\r\n" with
// LineOptions.CRLF). At Ctrl-D on an empty line it returns io.EOF, at
// Ctrl-C ErrInterrupt, and when reading the terminal fails, that error;
// from then on it returns the same, and the terminal has been restored.
func (e *LineEditor) ReadLine() ([]byte, error) {
	for {
		e.mu.Lock()
		if !e.started {
			e.mu.Unlock()
			return nil, errNotStarted
		}
		if !e.active {
			err := e.endErr
			e.mu.Unlock()
			return nil, err
		}
		line, err, done := e.processLocked()
		if !done && e.readErr != nil {
			err, done = e.readErr, true
			e.endErr = err
		}
		e.mu.Unlock()
		if done {
			if err != nil {
				e.restore()
			}
			return line, err
		}
		if e.inBuf == nil {
			e.inBuf = make([]byte, 4<<10)
		}
		n, rerr := e.in.Read(e.inBuf)
		e.mu.Lock()
		e.pending = append(e.pending, e.inBuf[:n]...)
		e.readErr = rerr
		e.mu.Unlock()
	}
}

// processLocked applies the keys in e.pending, up to and including the
// first that ends a line or the input, and redraws once.
func (e *LineEditor) processLocked() (line []byte, err error, done bool) {
	used := 0
	for used < len(e.pending) && !done {
		k, n := decodeKey(e.pending[used:], e.paste)
		if n == 0 {
			break
		}
		used += n
		lf := k.kind == keyEnter && !k.cr
		if lf && e.lastCR {
			e.lastCR = false
			continue // the LF of a CR LF
		}
		e.lastCR = k.kind == keyEnter && k.cr
		line, err, done = e.apply(k)
	}
	e.pending = append(e.pending[:0], e.pending[used:]...)
	if !done {
		e.redraw()
		e.flush()
	}
	return line, err, done
}

// apply does what key k does to the line.
func (e *LineEditor) apply(k key) (line []byte, err error, done bool) {
	if e.paste {
		switch k.kind {
		case keyPasteEnd:
			e.paste = false
		case keyEnter:
			return e.enter(), nil, true
		case keyRune:
			e.insert(k.r)
		}
		return nil, nil, false
	}
	switch k.kind {
	case keyRune:
		e.insert(k.r)
	case keyEnter:
		return e.enter(), nil, true
	case keyInterrupt:
		// As a cooked terminal does: the line stays, with ^C after it.
		e.moveTo(len(e.line))
		e.redraw()
		e.frame = append(e.frame, "^C\r\n"...)
		e.pcol, e.pmax, e.oRow, e.oCol, e.curRow, e.curCol = 0, 0, 0, 0, 0, 0
		e.endErr = ErrInterrupt
		e.active = false
		e.flush()
		return nil, ErrInterrupt, true
	case keyEOF:
		if len(e.line) == 0 {
			e.endErr = io.EOF
			return nil, io.EOF, true
		}
		e.deleteAt(e.pos, 1)
	case keyBackspace:
		if e.pos > 0 {
			e.deleteAt(e.pos-1, 1)
		}
	case keyDelete:
		e.deleteAt(e.pos, 1)
	case keyLeft:
		e.moveTo(e.pos - 1)
	case keyRight:
		e.moveTo(e.pos + 1)
	case keyHome:
		e.moveTo(0)
	case keyEnd:
		e.moveTo(len(e.line))
	case keyWordLeft:
		e.moveTo(e.wordStart(e.pos, isAlnum))
	case keyWordRight:
		e.moveTo(e.wordEnd(e.pos, isAlnum))
	case keyUp:
		e.recall(e.histIdx + 1)
	case keyDown:
		e.recall(e.histIdx - 1)
	case keyKillEnd:
		e.kill(e.pos, len(e.line))
	case keyKillStart:
		e.kill(0, e.pos)
	case keyKillWordBack:
		e.kill(e.wordStart(e.pos, notSpace), e.pos)
	case keyKillAlnumBack:
		e.kill(e.wordStart(e.pos, isAlnum), e.pos)
	case keyKillWordFwd:
		e.kill(e.pos, e.wordEnd(e.pos, isAlnum))
	case keyYank:
		for _, r := range e.killed {
			e.insert(r)
		}
	case keyTranspose:
		e.transpose()
	case keyClear:
		e.frame = append(e.frame, "\x1b[H\x1b[2J"...)
		e.pcol, e.pmax, e.curRow, e.curCol = 0, 0, 0, 0
		e.oRow, e.oCol = 0, 0
		e.drawnLen, e.dirty = -1, true
	case keyPasteStart:
		e.paste = true
	}
	return nil, nil, false
}

func isAlnum(r rune) bool  { return unicode.IsLetter(r) || unicode.IsDigit(r) }
func notSpace(r rune) bool { return !unicode.IsSpace(r) }

// wordStart is where the word before i begins: skip runes that are not
// in the word, then those that are.
func (e *LineEditor) wordStart(i int, in func(rune) bool) int {
	for i > 0 && !in(e.line[i-1]) {
		i--
	}
	for i > 0 && in(e.line[i-1]) {
		i--
	}
	return i
}

// wordEnd is where the word after i ends.
func (e *LineEditor) wordEnd(i int, in func(rune) bool) int {
	for i < len(e.line) && !in(e.line[i]) {
		i++
	}
	for i < len(e.line) && in(e.line[i]) {
		i++
	}
	return i
}

func (e *LineEditor) insert(r rune) {
	if len(e.line) >= maxLine {
		e.bell = true
		return
	}
	if e.pos != len(e.line) {
		e.dirty = true
	}
	e.line = append(e.line, 0)
	copy(e.line[e.pos+1:], e.line[e.pos:])
	e.line[e.pos] = r
	e.pos++
}

func (e *LineEditor) deleteAt(i, n int) {
	if i < 0 || i+n > len(e.line) || n == 0 {
		return
	}
	e.line = append(e.line[:i], e.line[i+n:]...)
	if e.pos > i {
		e.pos = max(i, e.pos-n)
	}
	e.dirty = true
}

func (e *LineEditor) kill(from, to int) {
	if from >= to {
		return
	}
	e.killed = append(e.killed[:0], e.line[from:to]...)
	e.deleteAt(from, to-from)
	e.pos = from
}

func (e *LineEditor) moveTo(i int) {
	i = min(max(i, 0), len(e.line))
	if i != e.pos {
		e.pos = i
		e.dirty = true
	}
}

func (e *LineEditor) transpose() {
	if len(e.line) < 2 || e.pos == 0 {
		return
	}
	i := e.pos
	if i == len(e.line) {
		i--
	}
	e.line[i-1], e.line[i] = e.line[i], e.line[i-1]
	e.pos = i + 1
	e.dirty = true
}

// recall shows history entry i (0: the newest; -1: the new line).
func (e *LineEditor) recall(i int) {
	if i < -1 || i >= e.hist.len() || i == e.histIdx {
		return
	}
	if e.histIdx == -1 {
		e.saved = append(e.saved[:0], e.line...)
	}
	e.histIdx = i
	if i == -1 {
		e.line = append(e.line[:0], e.saved...)
	} else {
		e.line = append(e.line[:0], decodeLine(e.hist.at(i))...)
	}
	e.pos = len(e.line)
	e.dirty = true
}

// enter sends the line: it stays on the screen, the cursor goes to the
// next row, and a new prompt is shown there.
func (e *LineEditor) enter() []byte {
	e.moveTo(len(e.line))
	e.redraw()
	e.commitLine()
	line := appendLine(nil, e.line)
	e.hist.add(line)
	if e.opt.CRLF {
		line = append(line, '\r', '\n')
	} else {
		line = append(line, '\n')
	}
	e.line, e.pos, e.histIdx = e.line[:0], 0, -1
	e.drawArea()
	e.flush()
	return line
}

// commitLine leaves the edit area, with the cursor at its end, on the
// screen as text and starts a new row for the peer below it.
func (e *LineEditor) commitLine() {
	if !e.endWrapped {
		// (A wrapped end has put the cursor on a new row already.)
		e.frame = append(e.frame, '\r', '\n')
	}
	e.pcol, e.pmax, e.oRow, e.oCol, e.curRow, e.curCol = 0, 0, 0, 0, 0, 0
	e.drawnLen = -1
}

// Output returns the writer through which the peer's data reaches the
// terminal: the line being edited is taken off the screen, the data
// printed (rendered as SafeWriter renders it, unless RawOutput), and the
// prompt and line drawn again after it, on the same row when the data
// ended without a newline. Before Start and after input has ended it
// writes the data alone. Its Write returns len(p) on success and may be
// called while ReadLine is in progress. Call its Flush (or CloseWrite,
// which also ends the stream of an underlying writer with a CloseWrite)
// at the end of the stream to show an incomplete rune held back.
func (e *LineEditor) Output() *EditorOutput { return &EditorOutput{e: e} }

// EditorOutput is the writer Output returns.
type EditorOutput struct{ e *LineEditor }

// Write prints p above the line being edited.
func (o *EditorOutput) Write(p []byte) (int, error) {
	e := o.e
	e.mu.Lock()
	defer e.mu.Unlock()
	var data []byte
	if e.opt.RawOutput {
		data = p
	} else {
		data = e.render.append(e.peerBuf[:0], p)
		if cap(data) <= maxKeptBuf {
			e.peerBuf = data
		}
	}
	if err := e.printLocked(data); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush shows a rune still held back from the last Write, incomplete as
// it is.
func (o *EditorOutput) Flush() error {
	e := o.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.render.held == 0 {
		return nil
	}
	return e.printLocked(e.render.flush(nil))
}

// CloseWrite flushes, then ends the underlying writer's stream if it has
// a CloseWrite method.
func (o *EditorOutput) CloseWrite() error {
	err := o.Flush()
	if cw, ok := o.e.out.(interface{ CloseWrite() error }); ok {
		if cerr := cw.CloseWrite(); err == nil {
			err = cerr
		}
	}
	return err
}

// printLocked writes data, already rendered, above the edit area.
func (e *LineEditor) printLocked(data []byte) error {
	if !e.active {
		if len(data) == 0 {
			return nil
		}
		_, err := e.out.Write(data)
		return err
	}
	e.clearArea()
	e.toPeer()
	e.appendPeer(data)
	e.drawArea()
	return e.flush()
}

// appendPeer adds the peer's data to the frame, with each LF as CR LF
// (the terminal is raw on input only, but its output settings may lack
// ONLCR), and follows where the peer's cursor goes.
func (e *LineEditor) appendPeer(data []byte) {
	w := e.termWidth()
	for len(data) > 0 {
		i := indexByte(data, '\n')
		if i < 0 {
			e.frame = append(e.frame, data...)
			e.advancePeer(data, w)
			break
		}
		e.frame = append(e.frame, data[:i]...)
		e.frame = append(e.frame, '\r', '\n')
		e.pcol, e.pmax = 0, 0
		data = data[i+1:]
	}
	if e.pcol >= w {
		// The cursor waits at the end of a full row for the next
		// character to wrap it: make the wrap now, so the edit area has
		// a row of its own and the cursor a place that movement reaches.
		e.frame = append(e.frame, '\r', '\n')
		e.pcol, e.pmax = 0, 0
	}
	e.curRow, e.curCol = 0, e.pcol
}

func indexByte(p []byte, c byte) int {
	for i, b := range p {
		if b == c {
			return i
		}
	}
	return -1
}

// advancePeer follows the peer's cursor through text with no LF in it.
func (e *LineEditor) advancePeer(p []byte, w int) {
	for i := 0; i < len(p); {
		b := p[i]
		switch {
		case b == 0x1b:
			// Only SGR from the dim rendering gets here, or anything with
			// RawOutput: skip a CSI sequence, which takes no room.
			j := i + 1
			if j < len(p) && p[j] == '[' {
				j++
				for j < len(p) && (p[j] < 0x40 || p[j] > 0x7e) {
					j++
				}
			}
			i = j + 1
			continue
		case b == '\r':
			e.pcol = 0
		case b == '\t':
			e.pcol = min((e.pcol/8+1)*8, w-1)
		case b == '\b':
			e.pcol = max(e.pcol-1, 0)
		case b < 0x20 || b == 0x7f:
		default:
			r, size := utf8.DecodeRune(p[i:])
			cw := runeWidth(r)
			if e.pcol+cw > w {
				e.pcol, e.pmax = 0, 0 // wrapped onto a new row
			}
			e.pcol += cw
			e.pmax = max(e.pmax, e.pcol)
			i += size
			continue
		}
		i++
	}
}

// termWidth is the terminal's width now.
func (e *LineEditor) termWidth() int {
	if e.fd < 0 {
		return max(e.testWidth, 1)
	}
	w, _, err := term.GetSize(e.fd)
	if err != nil || w <= 0 {
		return 80
	}
	return w
}

// The frame is built up by the functions below and written in one call
// by flush, so a redraw never reaches the terminal in pieces.

func (e *LineEditor) flush() error {
	if e.bell {
		e.frame = append(e.frame, '\a')
		e.bell = false
	}
	if len(e.frame) == 0 {
		return nil
	}
	_, err := e.out.Write(e.frame)
	if cap(e.frame) > maxKeptBuf {
		e.frame = nil
	} else {
		e.frame = e.frame[:0]
	}
	return err
}

func (e *LineEditor) csi(n int, f byte) {
	if n <= 0 {
		return
	}
	e.frame = append(e.frame, 0x1b, '[')
	if n > 1 {
		e.frame = strconv.AppendInt(e.frame, int64(n), 10)
	}
	e.frame = append(e.frame, f)
}

// moveCursor goes from (curRow, curCol) to (row, col).
func (e *LineEditor) moveCursor(row, col int) {
	e.csi(e.curRow-row, 'A')
	e.csi(row-e.curRow, 'B')
	if col != e.curCol {
		e.frame = append(e.frame, '\r')
		e.csi(col, 'C')
	}
	e.curRow, e.curCol = row, col
}

// clearArea takes the edit area off the screen, leaving the cursor at
// its origin.
func (e *LineEditor) clearArea() {
	e.frame = append(e.frame, '\r')
	e.curCol = 0
	e.moveCursor(e.oRow, e.oCol)
	e.frame = append(e.frame, "\x1b[J"...)
	e.drawnLen = -1
}

// toPeer goes from the cleared edit area's origin to the peer's cursor.
func (e *LineEditor) toPeer() {
	e.moveCursor(0, e.pcol)
}

// redraw brings the screen up to date with the line, if it changed.
func (e *LineEditor) redraw() {
	if !e.active {
		return
	}
	if !e.dirty && e.drawnLen >= 0 && e.pos == len(e.line) && e.drawnLen <= len(e.line) {
		// Typing at the end of the line: draw only what was added.
		if e.drawnLen < len(e.line) {
			e.layout(e.drawnLen)
		}
		return
	}
	if !e.dirty && e.drawnLen == len(e.line) {
		return
	}
	e.clearArea()
	e.toPeer()
	e.drawArea()
}

// drawArea draws the edit area from the peer's cursor, which is where
// the cursor is and nothing of the area is on the screen.
func (e *LineEditor) drawArea() {
	w := e.termWidth()
	e.width = w
	if start := max(e.pmax, e.pcol); start >= w {
		e.frame = append(e.frame, '\r', '\n')
		e.oRow, e.oCol = 1, 0
		e.curRow, e.curCol = 1, 0
	} else {
		e.oRow, e.oCol = 0, start
		e.moveCursor(0, start)
	}
	e.endRow, e.endCol, e.endWrapped = e.oRow, e.oCol, false
	e.layoutPrompt()
	e.layout(0)
}

// layoutPrompt draws the prompt from the origin.
func (e *LineEditor) layoutPrompt() {
	p := e.opt.Prompt
	for i := 0; i < len(p); {
		if p[i] == 0x1b {
			// An escape sequence of the user's (colour): no room taken.
			j := i + 1
			if j < len(p) && p[j] == '[' {
				j++
				for j < len(p) && (p[j] < 0x40 || p[j] > 0x7e) {
					j++
				}
			}
			j = min(j+1, len(p))
			e.frame = append(e.frame, p[i:j]...)
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(p[i:])
		var cell [16]byte
		out, cw := appendDisplay(cell[:0], r, false)
		e.put(out, cw)
		i += size
	}
}

// put writes a unit of cw cells at the end of the area, wrapping to a
// new row first when it does not fit.
func (e *LineEditor) put(out []byte, cw int) {
	w := e.width
	if e.endCol+cw > w && e.endCol > 0 {
		e.frame = append(e.frame, '\r', '\n')
		e.endRow++
		e.endCol = 0
	}
	e.frame = append(e.frame, out...)
	e.endCol += cw
	e.endWrapped = false
}

// layout draws the line from rune index from on (the area so far ends
// at (endRow, endCol), where the cursor is), then puts the cursor at
// e.pos.
func (e *LineEditor) layout(from int) {
	crow, ccol := -1, -1
	var cell [16]byte
	for i := from; i < len(e.line); i++ {
		out, cw := appendDisplay(cell[:0], e.line[i], e.opt.Colour)
		if e.endCol+cw > e.width && e.endCol > 0 {
			e.frame = append(e.frame, '\r', '\n')
			e.endRow++
			e.endCol = 0
		}
		if i == e.pos {
			crow, ccol = e.endRow, e.endCol
		}
		e.frame = append(e.frame, out...)
		e.endCol += cw
		e.endWrapped = false
	}
	if e.endCol >= e.width {
		// As in appendPeer: make the pending wrap now.
		e.frame = append(e.frame, '\r', '\n')
		e.endRow++
		e.endCol = 0
		e.endWrapped = true
	}
	e.curRow, e.curCol = e.endRow, e.endCol
	if crow >= 0 {
		e.moveCursor(crow, ccol)
	}
	e.drawnLen = len(e.line)
	e.dirty = false
}

// Reader returns the editor as the reading side of stdin: each Read
// returns the bytes of lines as they are sent (a line longer than the
// buffer over several Reads), then io.EOF at Ctrl-D on an empty line,
// ErrInterrupt at Ctrl-C, or the terminal's read error.
func (e *LineEditor) Reader() io.Reader { return &lineReader{e: e} }

type lineReader struct {
	e    *LineEditor
	rest []byte
	err  error
}

func (r *lineReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.rest, r.err = r.e.ReadLine()
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}
