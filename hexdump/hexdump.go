// Package hexdump formats the bytes that cross a connection as text in the
// layout of `hexdump -C`, with a direction mark in front of every line. It is
// the formatter behind gnc's -x option.
//
// Every chunk (one read) becomes a header line followed by its data lines:
//
//	> 2026-11-21 11:02:03.123456 len=16
//	> 00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|
//
// Scripts tell the two apart with these patterns (header, then data line;
// "[ ]" is a space):
//
//	^[<>] [0-9]{4}-[0-9]{2}-[0-9]{2}[ ]
//	^[<>] [0-9a-f]{8,}[ ][ ]
//
// Each data line shows the offset of its own first byte, counted per direction from the
// start of the connection, which makes the dump lossless and lets a reader
// rebuild the byte stream of each direction from the data lines alone.
//
// The package never touches the network or the output; it only appends to a
// caller-supplied buffer so that the caller can reuse one buffer and issue one
// write per chunk.
package hexdump

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dir is the direction of a chunk. It selects the mark at the start of every
// line and, with colour on, the hue. The zero value is Send; any value other
// than Recv is treated as Send.
type Dir uint8

const (
	// Send marks data gnc wrote to the network; its lines start with '>'.
	Send Dir = iota
	// Recv marks data gnc read from the network; its lines start with '<'.
	Recv
)

// norm maps every Dir to Send or Recv, which index the per-direction
// tables.
func (d Dir) norm() Dir {
	if d == Recv {
		return Recv
	}
	return Send
}

// Header is what a chunk's header line says besides its direction and
// length.
type Header struct {
	// Time is when the chunk crossed the connection. It is printed in its
	// own location (time.Now() gives local time) with microsecond
	// precision, truncated. The zero Time means the current time.
	Time time.Time
	// ID numbers the connection. Zero selects the single-connection form,
	// which prints neither an id nor Src and Dst.
	ID uint64
	// Src is where the chunk's bytes came from and Dst where they went,
	// printed verbatim as "#ID Src -> Dst" when ID is non-zero. An empty
	// string is printed as "?" so that the line keeps its shape.
	Src, Dst string
}

// Formatter turns chunks into dump text. The zero value is ready to use and
// produces plain text without colour. A Formatter is never modified by its
// methods, so one Formatter may be used by several goroutines at once.
type Formatter struct {
	// Color wraps every line in an ANSI SGR colour chosen by direction
	// (Send green, Recv cyan; headers bold) and resets it before the
	// newline, so colour never bleeds into the next line. False (the zero
	// value) produces plain text. ColorEnabled decides it from gnc's
	// --color flag.
	Color bool
}

const (
	bytesPerLine = 16

	// bodyLen is the length of a full data line after the offset: the
	// two-space gap, the 49-column hex area, "  |", 16 text bytes, '|' and
	// the newline.
	bodyLen = 71
	// textCol is where the text column starts within the body.
	textCol = 53

	// A plain line is mark, space, offset, body; a coloured one adds the
	// 5-byte SGR prefix and the 4-byte reset before the newline.
	sgrLen   = 5
	resetLen = 4
	reset    = "\x1b[0m"
)

var (
	// sgrData, sgrHead and marks are indexed by Send and Recv. The data
	// sequences are all sgrLen long so the hot loop can store them with
	// fixed-width writes.
	sgrData = [2]string{"\x1b[32m", "\x1b[36m"}
	sgrHead = [2]string{"\x1b[1;32m", "\x1b[1;36m"}
	marks   = [2]byte{'>', '<'}
)

const hexDigits = "0123456789abcdef"

// Indexes into tables.cells. A full line writes each half (8 input bytes,
// 24 output bytes of "xx " cells) as three 8-byte words:
//
//	word 0: cell 0, cell 1, the digits of cell 2
//	word 1: the space of cell 2, cell 3, cell 4, the first digit of cell 5
//	word 2: the rest of cell 5, cell 6, cell 7
//
// Each index names a copy of the cell table shifted to one of those places,
// so that a word is just three or four loads ORed together.
const (
	cellAt0 = iota
	cellAt3
	cellAt6
	cellAt1
	cellAt4
	cellAt7
	cellAt2
	cellAt5
	cellTail // the cell shifted right by one byte: the end of cell 5
	numCells
)

// tables holds everything the hot loop looks up.
type tables struct {
	// cells[k][b] is "xx " for byte b (two hex digits and a space) in the
	// low bytes of a little-endian word, shifted as index k says.
	cells [numCells][256]uint64
	// hexPair[b] is the two hex digits of b, for offsets.
	hexPair [256]uint16
}

// tab is a pointer variable rather than a plain array so that the compiler
// keeps the address in a register and indexes with a constant displacement:
// a global array costs one extra address computation per lookup, 18 per
// line.
var tab = newTables()

func newTables() *tables {
	t := new(tables)
	shifts := [numCells - 1]uint{0, 24, 48, 8, 32, 56, 16, 40}
	for i := range 256 {
		hi, lo := hexDigits[i>>4], hexDigits[i&15]
		cell := uint64(hi) | uint64(lo)<<8 | ' '<<16
		for k, s := range shifts {
			t.cells[k][i] = cell << s
		}
		t.cells[cellTail][i] = cell >> 8
		t.hexPair[i] = uint16(hi) | uint16(lo)<<8
	}
	return t
}

// AppendChunk appends the header line and the data lines for p to dst (which
// may be nil) and returns the extended buffer, growing it at most once, so
// that a caller reusing dst[:0] stops allocating once it is large enough. d is the direction,
// h fills the header, and off is the offset of p[0] in its direction of the
// connection (the sum of the lengths of all earlier chunks in that
// direction); a negative off is treated as 0. Lines are cut every 16 bytes
// of p, so when off is not a multiple of 16 the offsets are not aligned, but
// every line still shows the exact offset of its first byte. An empty p
// yields only a header with len=0.
func (f *Formatter) AppendChunk(dst []byte, d Dir, h Header, off int64, p []byte) []byte {
	d = d.norm()
	dst = f.appendHeader(dst, d, h)
	dst = strconv.AppendInt(dst, int64(len(p)), 10)
	dst = f.endLine(dst)
	if len(p) == 0 {
		return dst
	}
	if off < 0 {
		off = 0
	}
	start := uint64(off)
	last := start + uint64(len(p)-1)

	// Size the buffer once for the worst case (every line as wide as the
	// last offset needs), write with direct indexing, and trim at the end.
	lines := (len(p) + bytesPerLine - 1) / bytesPerLine
	perLine := 2 + offsetWidth(last) + bodyLen
	if f.Color {
		perLine += sgrLen + resetLen
	}
	n := len(dst)
	dst = slices.Grow(dst, lines*perLine)
	buf := dst[:cap(dst)]

	mark := uint16(marks[d]) | ' '<<8
	full := len(p) &^ (bytesPerLine - 1)
	if f.Color {
		n = appendLinesColor(buf, n, d, mark, start, p[:full])
	} else {
		n = appendLines(buf, n, mark, start, p[:full])
	}
	if full < len(p) {
		n = f.appendPartial(buf, n, d, mark, start+uint64(full), p[full:])
	}
	return dst[:n]
}

// AppendEOF appends the line that says direction d has ended (the peer or
// gnc half-closed it): the header prefix for h followed by " eof" instead of
// " len=N". Zero values of h mean what they mean for AppendChunk.
func (f *Formatter) AppendEOF(dst []byte, d Dir, h Header) []byte {
	d = d.norm()
	dst = f.appendPrefix(dst, d, h)
	dst = append(dst, " eof"...)
	return f.endLine(dst)
}

// appendHeader appends a chunk header up to and including "len=".
func (f *Formatter) appendHeader(dst []byte, d Dir, h Header) []byte {
	dst = f.appendPrefix(dst, d, h)
	return append(dst, " len="...)
}

// appendPrefix appends what chunk headers and EOF lines share: the colour,
// mark, time and, for multi-connection dumps, id and addresses.
func (f *Formatter) appendPrefix(dst []byte, d Dir, h Header) []byte {
	if f.Color {
		dst = append(dst, sgrHead[d]...)
	}
	dst = append(dst, marks[d], ' ')
	t := h.Time
	if t.IsZero() {
		t = time.Now()
	}
	dst = appendTime(dst, t)
	if h.ID != 0 {
		dst = append(dst, " #"...)
		dst = strconv.AppendUint(dst, h.ID, 10)
		dst = append(dst, ' ')
		dst = appendAddr(dst, h.Src)
		dst = append(dst, " -> "...)
		dst = appendAddr(dst, h.Dst)
	}
	return dst
}

func appendAddr(dst []byte, a string) []byte {
	if a == "" {
		return append(dst, '?')
	}
	return append(dst, a...)
}

func (f *Formatter) endLine(dst []byte) []byte {
	if f.Color {
		dst = append(dst, reset...)
	}
	return append(dst, '\n')
}

// appendTime appends "YYYY-MM-DD HH:MM:SS.uuuuuu" by hand: time.Format is
// several times slower and this runs once per chunk, which for small reads
// is as often as the data lines.
func appendTime(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	usec := t.Nanosecond() / 1000
	if year < 0 || year > 9999 {
		// Out of the 4-digit range the widths no longer line up anyway;
		// keep the value readable rather than clipping it.
		dst = strconv.AppendInt(dst, int64(year), 10)
	} else {
		dst = append(dst, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10))
	}
	return append(dst,
		'-', byte('0'+int(month)/10), byte('0'+int(month)%10),
		'-', byte('0'+day/10), byte('0'+day%10),
		' ', byte('0'+hour/10), byte('0'+hour%10),
		':', byte('0'+minute/10), byte('0'+minute%10),
		':', byte('0'+sec/10), byte('0'+sec%10),
		'.', byte('0'+usec/100000), byte('0'+usec/10000%10), byte('0'+usec/1000%10),
		byte('0'+usec/100%10), byte('0'+usec/10%10), byte('0'+usec%10))
}

// offsetWidth is the number of hex digits an offset is printed with: 8, or
// more when the value needs them, as hexdump -C would if it could.
func offsetWidth(v uint64) int {
	return max(8, (bits.Len64(v)+3)/4)
}

// appendLines writes the full 16-byte lines of p at buf[n:] and returns the
// new end. len(p) must be a multiple of 16 and buf must have room.
func appendLines(buf []byte, n int, mark uint16, off uint64, p []byte) int {
	t := tab
	var ow offsetWords
	// The lines below 4 GiB, which is nearly always all of them, get a
	// loop of their own without the width test.
	narrow, wide := p[:narrowLen(off, len(p))], p[narrowLen(off, len(p)):]
	for len(narrow) >= bytesPerLine {
		// Converting to array pointers of constant length lets the
		// compiler drop the bounds checks on every store in putLine8.
		putLine8((*[line8Len]byte)(buf[n:]), mark, ow.word(t, uint32(off)), (*[bytesPerLine]byte)(narrow), t)
		n += line8Len
		off += bytesPerLine
		narrow = narrow[bytesPerLine:]
	}
	for ; len(wide) >= bytesPerLine; wide = wide[bytesPerLine:] {
		n = putWide(buf, n, mark, off, ow.word(t, uint32(off)), (*[bytesPerLine]byte)(wide), t)
		off += bytesPerLine
	}
	return n
}

// appendLinesColor is appendLines with each line wrapped in the
// direction's colour.
func appendLinesColor(buf []byte, n int, d Dir, mark uint16, off uint64, p []byte) int {
	t := tab
	sgr := sgrWord(d)
	var ow offsetWords
	for len(p) >= bytesPerLine {
		// The 8-byte store of the 5-byte SGR sequence spills 3 bytes into
		// the line, which the line's own stores then overwrite.
		binary.LittleEndian.PutUint64(buf[n:], sgr)
		n += sgrLen
		if off < 1<<32 {
			putLine8((*[line8Len]byte)(buf[n:]), mark, ow.word(t, uint32(off)), (*[bytesPerLine]byte)(p), t)
			n += line8Len
		} else {
			n = putWide(buf, n, mark, off, ow.word(t, uint32(off)), (*[bytesPerLine]byte)(p), t)
		}
		n = putReset(buf, n)
		off += bytesPerLine
		p = p[bytesPerLine:]
	}
	return n
}

// narrowLen returns how many of the first n bytes from offset off lie in
// lines whose offset is below 1<<32 and so prints with 8 digits, as a
// multiple of 16 no larger than n.
func narrowLen(off uint64, n int) int {
	full := uint64(n) &^ (bytesPerLine - 1)
	if off >= 1<<32 {
		return 0
	}
	// Lines start at off, off+16, ...; count those below 1<<32.
	below := (1<<32 - off + bytesPerLine - 1) &^ (bytesPerLine - 1)
	return int(min(full, below))
}

// appendPartial writes the last line of a chunk, with fewer than 16 bytes:
// it writes the line as if p were padded with zeros, then blanks the cells of
// the missing bytes and ends the text column after the last real one. That
// keeps one implementation of the layout; the cost is paid once per chunk.
func (f *Formatter) appendPartial(buf []byte, n int, d Dir, mark uint16, off uint64, p []byte) int {
	var padded [bytesPerLine]byte
	k := copy(padded[:], p)
	if f.Color {
		binary.LittleEndian.PutUint64(buf[n:], sgrWord(d))
		n += sgrLen
	}
	var ow offsetWords
	if off < 1<<32 {
		putLine8((*[line8Len]byte)(buf[n:]), mark, ow.word(tab, uint32(off)), &padded, tab)
		n += line8Len
	} else {
		n = putWide(buf, n, mark, off, ow.word(tab, uint32(off)), &padded, tab)
	}
	body := (*[bodyLen]byte)(buf[n-bodyLen : n])
	first := 2 + 3*k // where the first missing cell starts
	if k >= 8 {
		first++
	}
	copy(body[first:textCol-3], blanks)
	body[textCol+k] = '|'
	body[textCol+k+1] = '\n'
	n += textCol + k + 2 - bodyLen
	if f.Color {
		n = putReset(buf, n)
	}
	return n
}

// blanks is enough spaces for the hex area of a line.
var blanks = strings.Repeat(" ", textCol)

// sgrWord returns the SGR sequence of data lines in direction d as a
// little-endian word, for one 8-byte store.
func sgrWord(d Dir) uint64 {
	s := sgrData[d]
	return uint64(binary.LittleEndian.Uint32([]byte(s))) | uint64(s[4])<<32
}

// putReset turns the line ending at buf[n] (just after its '\n') into one
// that resets the colour before the newline, and returns the new end.
func putReset(buf []byte, n int) int {
	binary.LittleEndian.PutUint32(buf[n-1:], uint32('\x1b')|'['<<8|'0'<<16|'m'<<24)
	buf[n+resetLen-1] = '\n'
	return n + resetLen
}

// putWide writes a full line whose offset needs more than 8 digits at
// buf[n:] and returns the new end. offWord holds the digits of the low 32
// bits of off. It lets putLine8 write the line shifted right by the extra
// digits, then overwrites putLine8's mark with the real mark and the high
// digits; offsets this large only occur after 4 GiB in one direction, and
// this keeps them nearly as fast as the rest.
func putWide(buf []byte, n int, mark uint16, off, offWord uint64, b *[bytesPerLine]byte, t *tables) int {
	extra := offsetWidth(off) - 8
	putLine8((*[line8Len]byte)(buf[n+extra:]), mark, offWord, b, t)
	binary.LittleEndian.PutUint16(buf[n:], mark)
	high := off >> 32
	for i := n + 2 + extra - 1; i >= n+2; i-- {
		buf[i] = hexDigits[high&15]
		high >>= 4
	}
	return n + line8Len + extra
}

// offsetWords makes the 8 hex digits of consecutive line offsets as one
// little-endian word. The top six digits change only every 16 lines, so
// they are kept and only the last two are looked up per line.
type offsetWords struct {
	top   uint64 // digits of key<<8, in the low 6 bytes
	key   uint32 // off>>8 that top was made for
	valid bool
}

func (w *offsetWords) word(t *tables, off uint32) uint64 {
	if !w.valid || off>>8 != w.key {
		w.key, w.valid = off>>8, true
		w.top = uint64(t.hexPair[off>>24]) | uint64(t.hexPair[off>>16&0xff])<<16 | uint64(t.hexPair[off>>8&0xff])<<32
	}
	return w.top | uint64(t.hexPair[off&0xff])<<48
}

// line8Len is the length of a full plain data line with an 8-digit offset.
const line8Len = 2 + 8 + bodyLen

// putLine8 writes one full plain data line: mark (the mark byte and a space,
// little-endian), the 8 offset digits as a little-endian word, and 16 bytes.
// The line is assembled in registers and written with 14 stores, a third of
// what one store per cell and per text byte needs; the hex cells come from
// the shifted tables and the text column from text8.
func putLine8(l *[line8Len]byte, mark uint16, offWord uint64, b *[bytesPerLine]byte, t *tables) {
	// Layout: [0:2] mark, [2:10] offset, [10:12] spaces, [12:36] first 8
	// bytes as "xx " cells, [36] space, [37:61] last 8, [61:63] " |",
	// [63:79] text, [79:81] "|\n".
	c := &t.cells
	binary.LittleEndian.PutUint16(l[0:], mark)
	binary.LittleEndian.PutUint64(l[2:], offWord)
	binary.LittleEndian.PutUint16(l[10:], ' '|' '<<8)
	binary.LittleEndian.PutUint64(l[12:], c[cellAt0][b[0]]|c[cellAt3][b[1]]|c[cellAt6][b[2]])
	binary.LittleEndian.PutUint64(l[20:], ' '|c[cellAt1][b[3]]|c[cellAt4][b[4]]|c[cellAt7][b[5]])
	binary.LittleEndian.PutUint64(l[28:], c[cellTail][b[5]]|c[cellAt2][b[6]]|c[cellAt5][b[7]])
	l[36] = ' '
	binary.LittleEndian.PutUint64(l[37:], c[cellAt0][b[8]]|c[cellAt3][b[9]]|c[cellAt6][b[10]])
	binary.LittleEndian.PutUint64(l[45:], ' '|c[cellAt1][b[11]]|c[cellAt4][b[12]]|c[cellAt7][b[13]])
	binary.LittleEndian.PutUint64(l[53:], c[cellTail][b[13]]|c[cellAt2][b[14]]|c[cellAt5][b[15]])
	binary.LittleEndian.PutUint16(l[61:], ' '|'|'<<8)
	binary.LittleEndian.PutUint64(l[63:], text8(binary.LittleEndian.Uint64(b[0:])))
	binary.LittleEndian.PutUint64(l[71:], text8(binary.LittleEndian.Uint64(b[8:])))
	binary.LittleEndian.PutUint16(l[79:], '|'|'\n'<<8)
}

// text8 returns the text column for the 8 bytes packed in x: each byte
// itself if it is printable ASCII (0x20-0x7e), '.' otherwise. It tests all
// eight bytes at once with word arithmetic rather than a 256-entry table,
// whose 8 loads, shifts and ORs per word slowed the whole formatter down
// (bench/NOTES.md). No addition carries across a byte: the high bit is
// masked off first and 0x7f+0x60 < 0x100.
func text8(x uint64) uint64 {
	const high = 0x8080808080808080
	low7 := x &^ high
	// Per byte, bit 7 of low7+0x60 says low7 >= 0x20, bit 7 of low7+0x01
	// says low7 == 0x7f, and bit 7 of x says x >= 0x80.
	ok := (low7 + 0x6060606060606060) &^ (low7 + 0x0101010101010101 | x) & high
	keep := ok | (ok - ok>>7) // 0xff where printable, 0x00 elsewhere
	return x ^ (x^0x2e2e2e2e2e2e2e2e)&^keep
}

// ColorEnabled decides whether the dump is coloured from gnc's --color mode,
// whether the output is a terminal, and the environment looked up through
// env (nil means os.Getenv). "always" and "never" decide alone; "auto" and
// the empty string colour only a terminal, and only when NO_COLOR is unset
// or empty (https://no-color.org). Any other mode is an error.
func ColorEnabled(mode string, isTerminal bool, env func(string) string) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		if env == nil {
			env = os.Getenv
		}
		return isTerminal && env("NO_COLOR") == "", nil
	}
	return false, errors.New("invalid color mode " + strconv.Quote(mode) + ": want auto, always or never")
}
