package hexdump

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// This file holds a strict reader for dump text. It checks every column of
// every line rather than just pulling the hex out, so that round-trip and
// fuzz tests catch layout mistakes as well as lost bytes.

// dumpLine is one parsed line of dump text.
type dumpLine struct {
	dir    Dir
	header bool
	// For headers: n is the len= value, or -1 for an EOF marker; id is
	// the connection's number, 0 in the single-connection form.
	n  int
	id uint64
	// For data lines: the offset of the first byte and the bytes.
	off  uint64
	data []byte
}

var (
	headerRE = regexp.MustCompile(`^[<>] [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}( #([1-9][0-9]*) \S+ -> \S+)? (len=(0|[1-9][0-9]*)|eof)$`)
	dataRE   = regexp.MustCompile(`^[<>] [0-9a-f]{8,}  `)
)

// stripColor removes the SGR prefix and the reset suffix that Formatter.Color
// adds, and reports an error if only one of them is there.
func stripColor(line string) (string, error) {
	if !strings.HasPrefix(line, "\x1b[") {
		if strings.Contains(line, "\x1b") {
			return "", errors.New("stray escape")
		}
		return line, nil
	}
	end := strings.IndexByte(line, 'm')
	if end < 0 || strings.Trim(line[2:end], "0123456789;") != "" {
		return "", errors.New("malformed colour sequence")
	}
	line, ok := strings.CutSuffix(line[end+1:], reset)
	if !ok {
		return "", errors.New("colour not reset at end of line")
	}
	if strings.Contains(line, "\x1b") {
		return "", errors.New("stray escape")
	}
	return line, nil
}

// parseLine parses one line without its newline. Every line must also match
// the pattern the package documents for scripts.
func parseLine(line string) (dumpLine, error) {
	line, err := stripColor(line)
	if err != nil {
		return dumpLine{}, err
	}
	if len(line) < 2 || line[1] != ' ' {
		return dumpLine{}, errors.New("no mark")
	}
	var l dumpLine
	switch line[0] {
	case '>':
		l.dir = Send
	case '<':
		l.dir = Recv
	default:
		return dumpLine{}, fmt.Errorf("bad mark %q", line[0])
	}
	if len(line) > 6 && line[6] == '-' {
		m := headerRE.FindStringSubmatch(line)
		if m == nil {
			return dumpLine{}, errors.New("malformed header line")
		}
		l.header = true
		l.n = -1
		if m[2] != "" {
			if l.id, err = strconv.ParseUint(m[2], 10, 64); err != nil {
				return l, err
			}
		}
		if m[4] != "" {
			l.n, err = strconv.Atoi(m[4])
		}
		return l, err
	}
	rest := line[2:]
	w := strings.IndexByte(rest, ' ')
	if w < 8 || strings.Trim(rest[:w], "0123456789abcdef") != "" || !strings.HasPrefix(rest[w:], "  ") {
		return dumpLine{}, errors.New("neither header nor data line")
	}
	if !dataRE.MatchString(line) {
		return dumpLine{}, errors.New("data line does not match the documented pattern")
	}
	if w > 8 && rest[0] == '0' {
		return dumpLine{}, errors.New("offset wider than needed")
	}
	l.off, err = strconv.ParseUint(rest[:w], 16, 64)
	if err != nil {
		return dumpLine{}, err
	}
	body := rest[w:]
	// body: "  " + 49-column hex area + "  |" + text + "|".
	if len(body) < textCol+2 || body[textCol-1] != '|' || body[len(body)-1] != '|' {
		return dumpLine{}, errors.New("text column not where expected")
	}
	text := body[textCol : len(body)-1]
	n := len(text)
	if n < 1 || n > bytesPerLine {
		return dumpLine{}, fmt.Errorf("%d bytes in text column", n)
	}
	want := make([]byte, textCol-1)
	for i := range want {
		want[i] = ' '
	}
	l.data = make([]byte, n)
	for i := range n {
		pos := 2 + 3*i
		if i >= 8 {
			pos++
		}
		v, err := strconv.ParseUint(body[pos:pos+2], 16, 8)
		if err != nil || strings.ToLower(body[pos:pos+2]) != body[pos:pos+2] {
			return dumpLine{}, fmt.Errorf("byte %d: bad hex %q", i, body[pos:pos+2])
		}
		l.data[i] = byte(v)
		copy(want[pos:], body[pos:pos+2])
	}
	if body[:textCol-1] != string(want) {
		return dumpLine{}, fmt.Errorf("hex area %q is not laid out as %q", body[:textCol-1], want)
	}
	for i, c := range l.data {
		want := byte('.')
		if c >= 0x20 && c <= 0x7e {
			want = c
		}
		if text[i] != want {
			return dumpLine{}, fmt.Errorf("text column byte %d is %q for %#02x", i, text[i], c)
		}
	}
	return l, nil
}

// parseDump parses dump text made of whole lines.
func parseDump(text []byte) ([]dumpLine, error) {
	if len(text) == 0 {
		return nil, nil
	}
	if text[len(text)-1] != '\n' {
		return nil, errors.New("dump does not end in a newline")
	}
	var lines []dumpLine
	for i, s := range strings.Split(string(text[:len(text)-1]), "\n") {
		l, err := parseLine(s)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: %w", i+1, s, err)
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// streams rebuilds the bytes of each direction from parsed lines. Every data
// line's offset must continue its direction's stream, which starts at
// start[d]; every header's len must match the data lines after it.
func streams(lines []dumpLine, start [2]uint64) ([2][]byte, error) {
	var out [2][]byte
	pending := -1 // bytes the last header promised and not yet seen
	var cur Dir
	check := func() error {
		if pending > 0 {
			return fmt.Errorf("header promised %d more bytes", pending)
		}
		return nil
	}
	for i, l := range lines {
		if l.header {
			if err := check(); err != nil {
				return out, fmt.Errorf("line %d: %w", i+1, err)
			}
			pending, cur = max(l.n, 0), l.dir
			continue
		}
		if l.dir != cur || pending < len(l.data) {
			return out, fmt.Errorf("line %d: data line not covered by a header", i+1)
		}
		if want := start[l.dir] + uint64(len(out[l.dir])); l.off != want {
			return out, fmt.Errorf("line %d: offset %#x, want %#x", i+1, l.off, want)
		}
		out[l.dir] = append(out[l.dir], l.data...)
		pending -= len(l.data)
	}
	return out, check()
}

// dataLines returns the data lines of plain dump text with the direction
// mark removed, as hexdump -C would print them.
func dataLines(text []byte) []string {
	var out []string
	for _, s := range strings.SplitAfter(string(text), "\n") {
		if dataRE.MatchString(s) {
			out = append(out, s[2:])
		}
	}
	return out
}
