package tty

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// newTestEditor is a started editor on no real terminal, drawing on a vt
// of width w; keys are given to it with feed, not read.
func newTestEditor(t *testing.T, w int, opt LineOptions) (*LineEditor, *vt) {
	t.Helper()
	return newTestEditorHeight(t, w, 30, opt)
}

func newTestEditorHeight(t *testing.T, w, h int, opt LineOptions) (*LineEditor, *vt) {
	t.Helper()
	v := newVT(w, h)
	e := NewLineEditor(-1, eofReader{}, v, opt)
	e.testWidth = w
	if _, err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, v
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// feed hands keys to e as if just read, and returns the lines they sent
// and the error that ended input, if any.
func (e *LineEditor) feed(keys string) (lines []string, err error) {
	e.mu.Lock()
	e.pending = append(e.pending, keys...)
	for {
		line, err, done := e.processLocked()
		if !done {
			e.mu.Unlock()
			return lines, nil
		}
		if err != nil {
			e.mu.Unlock()
			e.restore()
			return lines, err
		}
		lines = append(lines, string(line))
	}
}

// print is the peer's data arriving.
func (e *LineEditor) print(t *testing.T, s string) {
	t.Helper()
	if n, err := e.Output().Write([]byte(s)); n != len(s) || err != nil {
		t.Fatalf("Output().Write: %d, %v", n, err)
	}
}

const (
	left  = "\x1b[D"
	right = "\x1b[C"
	up    = "\x1b[A"
	down  = "\x1b[B"
	home  = "\x1b[H"
	end   = "\x1b[F"
)

func TestEditorKeys(t *testing.T) {
	for _, c := range []struct {
		name, keys string
		want       []string
	}{
		{"plain", "hello\r", []string{"hello\n"}},
		{"LF and CRLF", "a\nb\r\nc\r\r", []string{"a\n", "b\n", "c\n", "\n"}},
		{"insert", "hllo" + home + right + "e\r", []string{"hello\n"}},
		{"Ctrl-A and Ctrl-E", "world\x01hello \x05!\r", []string{"hello world!\n"}},
		{"Home End variants", "b\x1b[1~a\x1b[4~c\x1bOHx\x1bOFy\x1b[7~0\x1b[8~z\r", []string{"0xabcyz\n"}},
		{"SS3 arrows", "ac\x1bODb\x1bOC!\r", []string{"abc!\n"}},
		{"backspace", "helll\x7fo\x08\x08lo\r", []string{"hello\n"}},
		{"delete", "xhello" + home + "\x1b[3~\r", []string{"hello\n"}},
		{"Ctrl-K", "hello world" + left + left + left + left + left + left + "\x0b\r", []string{"hello\n"}},
		{"Ctrl-U kills before the cursor", "junk kept" + left + left + left + left + "\x15\x05!\r", []string{"kept!\n"}},
		{"Ctrl-W", "foo bar  \x17baz\r", []string{"foo baz\n"}},
		{"Ctrl-W and yank", "one two\x17\x01\x19 \r", []string{"two one \n"}},
		{"Alt-Backspace", "a.b-cd\x1b\x7f\r", []string{"a.b-\n"}},
		{"word moves", "aa bb cc\x1bb\x1bbX\x1bfY\x1b[1;5DZ\x1b[1;5CW\r", []string{"aa ZXbbYW cc\n"}},
		{"Alt-D", "aa bb cc\x01\x1bd\r", []string{" bb cc\n"}},
		{"Ctrl-T", "ab\x14\r" + "abc\x01\x06\x14\r", []string{"ba\n", "bac\n"}},
		{"Ctrl-D deletes under the cursor", "abc\x01\x04\r", []string{"bc\n"}},
		{"history", "first\rsecond\r" + up + up + "!\r" + up + down + down + "\r",
			[]string{"first\n", "second\n", "first!\n", "\n"}},
		{"history keeps the new line", "old\rnew" + up + up + down + "er\r", []string{"old\n", "newer\n"}},
		{"history skips repeats and blanks", "a\ra\r\r" + up + up + "\r", []string{"a\n", "a\n", "\n", "a\n"}},
		{"paste", "x\x1b[200~a\x01\x1b[D\x7fb\x1b[201~y\r", []string{"xa\x01\x1b[D\x7fby\n"}},
		{"paste with lines", "\x1b[200~one\r\ntwo\nthree\x1b[201~\r", []string{"one\n", "two\n", "three\n"}},
		{"paste keeps Ctrl-C and Ctrl-D", "\x1b[200~\x03\x04\x1b[201~\r", []string{"\x03\x04\n"}},
		{"UTF-8 and raw bytes", "caf\xc3\xa9 \xff\xfe日本" + left + "!\r", []string{"caf\xc3\xa9 \xff\xfe日!本\n"}},
		{"unknown keys ignored", "a\x1b[5~\x1b[15;2~\x00\x1bxb\x1b[2~\r", []string{"axb\n"}},
		{"tab is text", "a\tb\r", []string{"a\tb\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, v := newTestEditor(t, 80, LineOptions{})
			got, err := e.feed(c.keys)
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("lines %q, %v; want %q", got, err, c.want)
			}
			v.check(t)
		})
	}
}

// TestEditorKeysSplit: keys cut anywhere by the terminal's reads are the
// same keys.
func TestEditorKeysSplit(t *testing.T) {
	keys := "caf\xc3\xa9\x1b[D\x1b[1;5D\x1bOHx\x1b[200~p\x1b[201~\x1b[3~\r\n\xe6\x97\xa5\r"
	e0, _ := newTestEditor(t, 80, LineOptions{})
	whole, _ := e0.feed(keys)
	for cut := 1; cut < len(keys); cut++ {
		e, _ := newTestEditor(t, 80, LineOptions{})
		a, _ := e.feed(keys[:cut])
		b, _ := e.feed(keys[cut:])
		if got := append(a, b...); !reflect.DeepEqual(got, whole) {
			t.Fatalf("cut at %d: %q, whole: %q", cut, got, whole)
		}
	}
}

func TestEditorEndOfInput(t *testing.T) {
	e, v := newTestEditor(t, 80, LineOptions{Prompt: "> "})
	lines, err := e.feed("sent\r\x04")
	if err != io.EOF || len(lines) != 1 {
		t.Fatalf("Ctrl-D on an empty line: %q, %v", lines, err)
	}
	if rows, _, _ := v.screen(); !reflect.DeepEqual(rows, []string{"> sent", ""}) {
		t.Errorf("after Ctrl-D the prompt should be gone: %q", rows)
	}
	if _, err := e.ReadLine(); err != io.EOF {
		t.Errorf("ReadLine after the end: %v", err)
	}
	e.print(t, "late\n")
	if rows, _, _ := v.screen(); rows[1] != "late" {
		t.Errorf("data after the end: %q", rows)
	}

	e, v = newTestEditor(t, 80, LineOptions{Prompt: "> "})
	if _, err := e.feed("typed\x03"); err != ErrInterrupt {
		t.Fatalf("Ctrl-C: %v", err)
	}
	if rows, _, _ := v.screen(); !reflect.DeepEqual(rows, []string{"> typed^C", ""}) {
		t.Errorf("after Ctrl-C: %q", rows)
	}
	if _, err := e.ReadLine(); err != ErrInterrupt {
		t.Errorf("ReadLine after Ctrl-C: %v", err)
	}
}

func TestEditorCRLF(t *testing.T) {
	e, _ := newTestEditor(t, 80, LineOptions{CRLF: true})
	if got, _ := e.feed("HELO x\r"); !reflect.DeepEqual(got, []string{"HELO x\r\n"}) {
		t.Errorf("got %q", got)
	}
}

// TestEditorDisplay checks what the screen shows as the peer's data
// comes in while a line is typed.
func TestEditorDisplay(t *testing.T) {
	type step struct{ keys, peer string }
	for _, c := range []struct {
		name     string
		prompt   string
		width    int
		steps    []step
		rows     []string
		row, col int
	}{
		{"data above the line", "> ", 40,
			[]step{{keys: "hel"}, {peer: "220 ready\n"}, {keys: "lo"}},
			[]string{"220 ready", "> hello"}, 1, 7},
		// x/term's Terminal overwrites the line here and does not redraw it.
		{"empty prompt, cursor at Home", "", 40,
			[]step{{keys: "hello" + home}, {peer: "data\n"}},
			[]string{"data", "hello"}, 1, 0},
		{"empty line, empty prompt", "", 40,
			[]step{{peer: "one\n"}, {peer: "two\n"}},
			[]string{"one", "two", ""}, 2, 0},
		{"a peer's prompt without a newline", "", 40,
			[]step{{peer: "Password: "}, {keys: "abc"}, {peer: "\n230 ok\n"}},
			[]string{"Password:", "230 ok", "abc"}, 2, 3},
		{"the peer's line continues", "> ", 40,
			[]step{{peer: "abc"}, {keys: "xy" + left}, {peer: "def"}, {keys: "Z"}},
			[]string{"abcdef> xZy"}, 0, 10},
		{"a lone CR keeps the peer's text", "", 40,
			[]step{{peer: "progress 10%\r"}, {keys: "q"}},
			[]string{"progress 10%q"}, 0, 13},
		{"CR then LF in two writes", "", 40,
			[]step{{peer: "hello\r"}, {keys: "k"}, {peer: "\nworld\r\n"}},
			[]string{"hello", "world", "k"}, 2, 1},
		{"escape sequences shown", "", 60,
			[]step{{keys: "x"}, {peer: "\x1b[2J\x1b]0;title\x07\x9b\n"}},
			[]string{`^[[2J^[]0;title^G\x9b`, "x"}, 1, 1},
		{"long line wraps", "> ", 10,
			[]step{{keys: "abcdefghijklmnopqrstu"}, {peer: "x\n"}},
			[]string{"x", "> abcdefgh", "ijklmnopqr", "stu"}, 3, 3},
		{"exactly full rows", "> ", 10,
			[]step{{keys: "abcdefgh"}},
			[]string{"> abcdefgh", ""}, 1, 0},
		{"editing a wrapped line", "> ", 10,
			[]step{{keys: "abcdefghijklmnop" + home + right + right + "XY"}, {peer: "data\n"}},
			[]string{"data", "> abXYcdef", "ghijklmnop"}, 1, 6},
		{"peer's full row", "", 10,
			[]step{{peer: "0123456789"}, {keys: "ab"}},
			[]string{"0123456789", "ab"}, 1, 2},
		{"peer's full row then CR", "", 10,
			[]step{{peer: "0123456789\r"}, {keys: "ab"}, {peer: "X\n"}},
			[]string{"X123456789", "ab"}, 1, 2},
		{"wide runes", "", 10,
			[]step{{keys: "日本語のテ"}, {keys: "キ"}},
			[]string{"日本語のテ", "キ"}, 1, 2},
		{"controls in the line shown", "", 40,
			[]step{{keys: "\x1b[200~a\x1bb\x1b[201~"}},
			[]string{"a^[b"}, 0, 4},
		{"Ctrl-L", "> ", 40,
			[]step{{peer: "old\n"}, {keys: "ab\x0c"}},
			[]string{"> ab"}, 0, 4},
		{"Enter leaves the line", "> ", 40,
			[]step{{keys: "one\r"}, {peer: "reply\n"}, {keys: "tw"}},
			[]string{"> one", "reply", "> tw"}, 2, 4},
		{"history recall redraws", "", 40,
			[]step{{keys: "a much longer line\r"}, {keys: "short" + up + up + down}},
			[]string{"a much longer line", "short"}, 1, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, v := newTestEditor(t, c.width, LineOptions{Prompt: c.prompt})
			for _, s := range c.steps {
				if s.keys != "" {
					e.feed(s.keys)
				}
				if s.peer != "" {
					e.print(t, s.peer)
				}
			}
			rows, row, col := v.screen()
			if !reflect.DeepEqual(rows, c.rows) || row != c.row || col != c.col {
				t.Errorf("screen (cursor %d,%d):\n%s\nwant (cursor %d,%d):\n%s", row, col,
					strings.Join(rows, "\n"), c.row, c.col, strings.Join(c.rows, "\n"))
			}
			v.check(t)
		})
	}
}

// TestEditorRestoreClears: restoring takes the line being edited off the
// screen and turns bracketed paste off.
func TestEditorRestoreClears(t *testing.T) {
	e, v := newTestEditor(t, 40, LineOptions{Prompt: "> "})
	e.print(t, "peer: ")
	e.feed("half")
	if err := e.restore(); err != nil {
		t.Fatal(err)
	}
	if rows, row, col := v.screen(); !reflect.DeepEqual(rows, []string{"peer:"}) || row != 0 || col != 6 {
		t.Errorf("after restore (cursor %d,%d): %q", row, col, rows)
	}
	e.print(t, "more\n")
	if rows, _, _ := v.screen(); !reflect.DeepEqual(rows, []string{"peer: more", ""}) {
		t.Errorf("data after restore: %q", rows)
	}
}

// TestEditorRandomDisplay types random keys, with the peer's data in
// between, and checks after each step the whole screen against a model:
// a terminal that is given only the peer's text and the lines sent, with
// the prompt and the line being edited laid over it where they belong
// (after the peer's text, wrapped as a terminal wraps), and the cursor
// on the character being edited.
func TestEditorRandomDisplay(t *testing.T) {
	keys := []string{"a", "b", "日", "é", " ", left, right, home, end, "\x7f", "\x1b[3~", "\x17", "\x0b", "\x15", "\x19", "\x14", up, down, "\r", "\x1bb", "\x1bf"}
	peer := []string{"x", "line\n", "two\nlines\n", "\r", "\t", "tail", "\x1b[1m", "日本", "\r\n"}
	for seed := range uint64(40) {
		width := 5 + int(seed%13)
		prompt := []string{"", "> ", "gnc$ "}[seed%3]
		e, v := newTestEditorHeight(t, width, 300, LineOptions{Prompt: prompt})
		ref := newVT(width, 300)
		rng := seed*2654435761 + 1
		next := func(n int) int {
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			return int(rng % uint64(n))
		}
		var log []string
		for i := range 200 {
			var did string
			if next(4) == 0 {
				did = peer[next(len(peer))]
				e.print(t, did)
				ref.Write([]byte(strings.ReplaceAll(string(AppendSafe(nil, []byte(did), false)), "\n", "\r\n")))
				if ref.wrapNext {
					ref.Write([]byte("\r\n"))
				}
			} else {
				did = keys[next(len(keys))]
				line := string(e.line)
				e.feed(did)
				if did == "\r" {
					// The line sent stays on the screen.
					m := modelArea(ref, prompt, line, len([]rune(line)))
					if !m.wrapNext {
						m.row++ // the Enter; a full last row has put the cursor there
					}
					ref.rows, ref.row, ref.col, ref.wrapNext = m.rows, m.row, 0, false
					ref.used = max(m.used, m.row)
				}
			}
			log = append(log, fmt.Sprintf("%q", did))
			if ref.used > ref.h-50 {
				t.Fatalf("seed %d: the test's screen is too short", seed)
			}
			m := modelArea(ref, prompt, string(e.line), e.pos)
			rows, row, col := v.screen()
			want, _, _ := m.screen()
			if !reflect.DeepEqual(rows, want) || row != m.row || col != m.col {
				var diff []string
				for r := range max(len(rows), len(want)) {
					var a, b string
					if r < len(rows) {
						a = rows[r]
					}
					if r < len(want) {
						b = want[r]
					}
					mark := "  "
					if a != b {
						mark = "! "
					}
					diff = append(diff, fmt.Sprintf("%s%-12q %q", mark, a, b))
				}
				t.Fatalf("seed %d, step %d, width %d, after %s: screen (cursor %d,%d), want (cursor %d,%d):\n%s",
					seed, i, width, strings.Join(log[max(0, len(log)-40):], " "), row, col, m.row, m.col, strings.Join(diff[max(0, len(diff)-30):], "\n"))
			}
			v.check(t)
		}
	}
}

// modelArea returns a copy of ref with the prompt and line laid over it
// after the text on the cursor's row, the cursor at rune pos.
func modelArea(ref *vt, prompt, line string, pos int) *vt {
	m := newVT(ref.w, ref.h)
	for i := range ref.rows[:ref.used+1] {
		copy(m.rows[i], ref.rows[i])
	}
	m.row = ref.row
	extent := 0
	for c, r := range ref.rows[ref.row] {
		if r != ' ' {
			extent = c + 1
		}
	}
	col := max(extent, ref.col)
	if col >= ref.w {
		m.row, col = m.row+1, 0
	}
	crow, ccol := -1, -1
	for i, r := range []rune(prompt + line) {
		cw := runeWidth(r)
		if col+cw > ref.w && col > 0 {
			m.row, col = m.row+1, 0
		}
		if i == len([]rune(prompt))+pos {
			crow, ccol = m.row, col
		}
		for c := col; c < min(col+cw, ref.w); c++ {
			m.rows[m.row][c] = 0
		}
		m.rows[m.row][col] = r
		col += cw
	}
	if col >= ref.w {
		m.row, col = m.row+1, 0
		m.wrapNext = true // here: the area ended with a full row
	}
	m.col = col
	m.used = max(ref.used, m.row)
	if crow >= 0 {
		m.row, m.col = crow, ccol
	}
	return m
}

func TestHistoryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hist")
	e, _ := newTestEditor(t, 80, LineOptions{HistoryFile: path, HistorySize: 3})
	e.feed("one\rtwo\rtwo\rthree\rfour\r")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("history file: %v, %v", st, err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "one\ntwo\nthree\nfour\n" {
		t.Errorf("appended: %q", data)
	}
	// The next run loads the newest 3 lines and trims the file to them.
	e, _ = newTestEditor(t, 80, LineOptions{HistoryFile: path, HistorySize: 3})
	got, _ := e.feed(up + up + up + up + "\r")
	if !reflect.DeepEqual(got, []string{"two\n"}) {
		t.Errorf("recalled %q, want the oldest of the newest 3", got)
	}
	e.Close()
	if data, _ := os.ReadFile(path); string(data) != "two\nthree\nfour\ntwo\n" {
		t.Errorf("trimmed and appended: %q", data)
	}

	// A history file that cannot be opened is an error naming it.
	bad := filepath.Join(dir, "missing", "hist")
	_, err = NewLineEditor(-1, eofReader{}, io.Discard, LineOptions{HistoryFile: bad}).Start()
	if err == nil || !strings.Contains(err.Error(), bad) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unusable history file: %v", err)
	}
	_, err = NewLineEditor(-1, eofReader{}, io.Discard, LineOptions{HistoryFile: dir}).Start()
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("a directory as history file: %v", err)
	}
	// No history at all.
	e, _ = newTestEditor(t, 80, LineOptions{HistorySize: -1, HistoryFile: filepath.Join(dir, "unused")})
	if got, _ := e.feed("a\r" + up + "\r"); !reflect.DeepEqual(got, []string{"a\n", "\n"}) {
		t.Errorf("without history: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "unused")); !os.IsNotExist(err) {
		t.Errorf("history off, yet the file was made: %v", err)
	}
}

// TestEditorReader: the editor as the stdin side of a conn.
func TestEditorReader(t *testing.T) {
	e, _ := newTestEditor(t, 80, LineOptions{})
	e.mu.Lock()
	e.pending = append(e.pending, "first line\rsecond\r\x04"...)
	e.mu.Unlock()
	r := e.Reader()
	var got []byte
	buf := make([]byte, 4)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != "first line\nsecond\n" {
		t.Errorf("read %q", got)
	}
}

// FuzzDecodeKey: every input decodes into keys without a panic, each key
// takes bytes that are there, and an unfinished key never holds more than
// maxSeq bytes back, so typed (or pasted) input cannot pile up unread.
func FuzzDecodeKey(f *testing.F) {
	for _, s := range []string{"abc\r\n", "\x1b[A\x1b[1;5D\x1bOH", "\x1b[200~pasted\x1b[201~", "\x1b[", "\x1b[1;", "é\xc3", "\x1bb\x1b\x7f", "\x1b[99999999999999999999~", "\x03\x04\x7f\t"} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, paste bool) {
		for len(b) > 0 {
			k, n := decodeKey(b, paste)
			if n < 0 || n > len(b) {
				t.Fatalf("decodeKey(%q) took %d bytes", b, n)
			}
			if n == 0 {
				if len(b) > maxSeq {
					t.Fatalf("decodeKey(%q, %v) holds %d bytes back as an unfinished key", b, paste, len(b))
				}
				return
			}
			switch k.kind {
			case keyPasteStart:
				paste = true
			case keyPasteEnd:
				paste = false
			}
			b = b[n:]
		}
	})
}
