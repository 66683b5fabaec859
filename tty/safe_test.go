package tty

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendSafe(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text\tand\r\nlines\n", "plain text\tand\r\nlines\n"},
		{"\x1b[2J\x1b]0;pwned\x07", "^[[2J^[]0;pwned^G"},
		{"\x00\x01\x1f\x7f", "^@^A^_^?"},
		{"\u009b31m", `\x9b31m`},                                 // C1 CSI as UTF-8
		{"\x9b31m", `\x9b31m`},                                   // C1 CSI as a raw byte
		{"caf\xc3\xa9 \u00a0\u20ac", "caf\xc3\xa9 \u00a0\u20ac"}, // valid UTF-8, NBSP is not C1
		{"\xff\xfe", `\xff\xfe`},
		{"\xe2\x82", `\xe2\x82`},         // incomplete at the end of a whole input
		{"\xe2\x82x", `\xe2\x82x`},       // cut short
		{"\xed\xa0\x80", `\xed\xa0\x80`}, // a surrogate is not UTF-8
		{"\xc0\xaf", `\xc0\xaf`},         // overlong
		{"\ufffd", "\ufffd"},             // a real replacement character passes
	} {
		if got := string(AppendSafe(nil, []byte(c.in), false)); got != c.want {
			t.Errorf("AppendSafe(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestAppendSafeColour(t *testing.T) {
	got := string(AppendSafe(nil, []byte("a\x1b[1mb\x00\x01c"), true))
	want := "a" + dimOn + "^[" + dimOff + "[1mb" + dimOn + "^@^A" + dimOff + "c"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// countingWriter records each call.
type countingWriter struct {
	calls  int
	buf    bytes.Buffer
	closed bool
}

func (c *countingWriter) Write(p []byte) (int, error) { c.calls++; return c.buf.Write(p) }
func (c *countingWriter) CloseWrite() error           { c.closed = true; return nil }

func TestSafeWriterSplitRune(t *testing.T) {
	var out countingWriter
	s := NewSafeWriter(&out, false)
	in := []byte("€uro \xe2\x82\xac and \xf0\x9f\x98\x80!")
	for i := range in {
		if n, err := s.Write(in[i : i+1]); n != 1 || err != nil {
			t.Fatalf("Write returned %d, %v", n, err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.buf.String() != string(in) {
		t.Errorf("byte by byte: %q, want %q", out.buf.String(), in)
	}
}

func TestSafeWriterFlushAndCloseWrite(t *testing.T) {
	var out countingWriter
	s := NewSafeWriter(&out, false)
	s.Write([]byte("ok\xf0\x9f"))
	if got := out.buf.String(); got != "ok" {
		t.Fatalf("before the end: %q", got)
	}
	if err := s.CloseWrite(); err != nil || !out.closed {
		t.Fatalf("CloseWrite: %v, forwarded %v", err, out.closed)
	}
	if got := out.buf.String(); got != `ok\xf0\x9f` {
		t.Errorf("after CloseWrite: %q", got)
	}
}

// TestSafeWriterPlainOneWrite: plain text goes through in one call,
// without allocating.
func TestSafeWriterPlainOneWrite(t *testing.T) {
	var out countingWriter
	s := NewSafeWriter(&out, true)
	chunk := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: example\r\n\tü€\n"), 1000)
	s.Write(chunk)
	if out.calls != 1 || !bytes.Equal(out.buf.Bytes(), chunk) {
		t.Fatalf("%d calls, equal %v", out.calls, bytes.Equal(out.buf.Bytes(), chunk))
	}
	if a := testing.AllocsPerRun(100, func() { s.Write(chunk) }); a != 0 {
		t.Errorf("%v allocations per plain write", a)
	}
	dirty := append(bytes.Clone(chunk), "\x1b[0m"...)
	s.Write(dirty) // grows the buffer once
	if a := testing.AllocsPerRun(100, func() { s.Write(dirty) }); a != 0 {
		t.Errorf("%v allocations per rendered write", a)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken") }

func TestSafeWriterError(t *testing.T) {
	s := NewSafeWriter(failWriter{}, false)
	if n, err := s.Write([]byte("x\x1b")); n != 0 || err == nil {
		t.Errorf("rendered write to a broken writer: %d, %v", n, err)
	}
	if n, err := s.Write([]byte("x")); n != 0 || err == nil {
		t.Errorf("plain write to a broken writer: %d, %v", n, err)
	}
}

// safeOutput reports why out is not something a terminal can be given.
func safeOutput(out []byte) error {
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRune(out[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return errors.New("invalid UTF-8")
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			return errors.New("a C0 control or DEL")
		case r >= 0x80 && r < 0xa0:
			return errors.New("a C1 control")
		}
		i += size
	}
	return nil
}

func stripDim(s string) string {
	return strings.NewReplacer(dimOn, "", dimOff, "").Replace(s)
}

func FuzzSafeWriter(f *testing.F) {
	for _, s := range []string{"hello\n", "\x1b[31mred\x1b[0m", "\x9b\xc2\x9b", "é€😀", "\xe2\x82", "\x00\x7f\xff", "a\rb\tc"} {
		f.Add([]byte(s), uint16(1), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint16, colour bool) {
		whole := AppendSafe(nil, in, false)
		if err := safeOutput(whole); err != nil {
			t.Fatalf("AppendSafe(%q) = %q: %v", in, whole, err)
		}
		if utf8.Valid(in) && !bytes.ContainsFunc(in, func(r rune) bool {
			return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r >= 0x7f && r < 0xa0
		}) && !bytes.Equal(whole, in) {
			t.Fatalf("clean input %q changed to %q", in, whole)
		}
		// Cut the stream into pieces of a size taken from cut, and at
		// cut itself: the result is the same as in one piece.
		var out bytes.Buffer
		s := NewSafeWriter(&out, colour)
		step := int(cut%7) + 1
		rest := in
		if c := int(cut) % (len(in) + 1); c > 0 {
			s.Write(rest[:c])
			rest = rest[c:]
		}
		for len(rest) > 0 {
			n := min(step, len(rest))
			if m, err := s.Write(rest[:n]); m != n || err != nil {
				t.Fatalf("Write: %d, %v", m, err)
			}
			rest = rest[n:]
		}
		s.Flush()
		got := out.Bytes()
		if colour {
			if err := safeOutput([]byte(stripDim(string(got)))); err != nil {
				t.Fatalf("coloured output %q: %v", got, err)
			}
			got = []byte(stripDim(string(got)))
		}
		if !bytes.Equal(got, whole) {
			t.Fatalf("in pieces of %d: %q, whole: %q", step, got, whole)
		}
	})
}

// BenchmarkSafeWriter measures 64 KiB chunks of plain ASCII, of UTF-8
// text, and of text with an escape sequence every 80 bytes.
func BenchmarkSafeWriter(b *testing.B) {
	line := "The quick brown fox jumps over the lazy dog; 0123456789 ABCDEFGHIJKLMNOPQRSTU\n"
	mk := func(s string) []byte {
		return bytes.Repeat([]byte(s), 64<<10/len(s)+1)[:64<<10]
	}
	for _, c := range []struct {
		name  string
		chunk []byte
	}{
		{"ascii", mk(line)},
		{"utf8", mk("Съешь же ещё этих мягких французских булок, да выпей чаю. 日本語のテキスト\n")},
		{"escapes", mk("\x1b[1m" + line[5:])},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := NewSafeWriter(io.Discard, true)
			b.SetBytes(int64(len(c.chunk)))
			b.ReportAllocs()
			for b.Loop() {
				s.Write(c.chunk)
			}
		})
	}
}
