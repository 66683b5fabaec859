package tty

import (
	"encoding/binary"
	"io"
	"unicode/utf8"
)

// The SGR sequences around each run of rendered bytes when colour is on:
// dim (faint) and back to normal intensity, which leaves bold, colour and
// every other attribute the peer's text may rely on as it was.
const (
	dimOn  = "\x1b[2m"
	dimOff = "\x1b[22m"
)

// maxKeptBuf bounds the rendering buffer a SafeWriter keeps between
// writes; a larger one, made for an unusually expanded chunk, is dropped.
const maxKeptBuf = 1 << 20

// plainASCII[b] is true for the bytes that reach a terminal unchanged
// without acting on it: printable ASCII, tab, newline and carriage return.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < 0x7f; b++ {
		t[b] = true
	}
	t['\t'], t['\n'], t['\r'] = true, true, true
	return t
}()

const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// printableWord reports whether all eight bytes of x are in 0x20..0x7e.
// It never says true wrongly; it may say false for a word of such bytes
// only when that word also holds one outside the range, so the caller
// falls back to looking at bytes one by one.
func printableWord(x uint64) bool {
	below := (x - 0x20*lows) &^ x & highs // some byte < 0x20
	above := ((x + lows) | x) & highs     // some byte >= 0x7f
	return below|above == 0
}

// plainPrefix returns the length of the longest prefix of p that passes
// unchanged: plain ASCII and whole, valid UTF-8 runes outside the C1
// range. It stops before an incomplete rune at the end of p.
func plainPrefix(p []byte) int {
	i := 0
	for i < len(p) {
		if i+8 <= len(p) && printableWord(binary.LittleEndian.Uint64(p[i:])) {
			i += 8
			continue
		}
		b := p[i]
		if b < utf8.RuneSelf {
			if !plainASCII[b] {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 || r < 0xa0 {
			return i // invalid or incomplete UTF-8, or a C1 control
		}
		i += size
	}
	return i
}

// renderer renders a byte stream for a terminal: what would act on it is
// shown visibly instead. It holds back an incomplete UTF-8 sequence at the
// end of one chunk until the next completes it (or Flush says there is no
// more), so where the stream is cut never changes what is shown.
type renderer struct {
	colour bool
	carry  [utf8.UTFMax - 1]byte
	held   int // bytes in carry
}

// appendControl appends the visible form of the ASCII control b.
func appendControl(dst []byte, b byte) []byte {
	if b == 0x7f {
		return append(dst, '^', '?')
	}
	return append(dst, '^', b+0x40)
}

// appendHex appends b as \xNN.
func appendHex(dst []byte, b byte) []byte {
	const digits = "0123456789abcdef"
	return append(dst, '\\', 'x', digits[b>>4], digits[b&0xf])
}

// render appends p to dst in its safe form and returns how many bytes of
// p it consumed: all of them when final, otherwise all but an incomplete
// UTF-8 sequence at the very end.
func render(dst, p []byte, colour, final bool) ([]byte, int) {
	dim := false
	i := 0
	for i < len(p) {
		if n := plainPrefix(p[i:]); n > 0 {
			if dim {
				dst, dim = append(dst, dimOff...), false
			}
			dst = append(dst, p[i:i+n]...)
			i += n
			continue
		}
		b := p[i]
		if b >= utf8.RuneSelf && !final && !utf8.FullRune(p[i:]) {
			break // the rest of this rune comes with the next chunk
		}
		if colour && !dim {
			dst, dim = append(dst, dimOn...), true
		}
		if b < utf8.RuneSelf {
			dst = appendControl(dst, b)
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			dst = appendHex(dst, b) // not UTF-8: this byte alone
			i++
			continue
		}
		dst = appendHex(dst, byte(r)) // C1, U+0080..U+009F
		i += size
	}
	if dim {
		dst = append(dst, dimOff...)
	}
	return dst, i
}

// append appends the safe form of p, a chunk of the stream, to dst,
// holding back an incomplete rune at its end.
func (r *renderer) append(dst, p []byte) []byte {
	if r.held > 0 {
		// Complete the held rune with the first bytes of p: at most
		// three more are needed to decide it one way or the other.
		var tmp [2*utf8.UTFMax - 2]byte
		n := copy(tmp[:], r.carry[:r.held])
		take := copy(tmp[n:], p)
		var used int
		dst, used = render(dst, tmp[:n+take], r.colour, false)
		if used < n {
			// Still incomplete: p was too short to finish the rune and
			// all of it is now held.
			r.held = copy(r.carry[:], tmp[used:n+take])
			return dst
		}
		p = p[used-n:]
		r.held = 0
	}
	dst, used := render(dst, p, r.colour, false)
	r.held = copy(r.carry[:], p[used:])
	return dst
}

// flush appends the held bytes, if any, as the invalid UTF-8 they are.
func (r *renderer) flush(dst []byte) []byte {
	if r.held == 0 {
		return dst
	}
	dst, _ = render(dst, r.carry[:r.held], r.colour, true)
	r.held = 0
	return dst
}

// AppendSafe appends p to dst in the form SafeWriter shows it, treating
// p as a whole: an incomplete UTF-8 sequence at its end is shown as the
// invalid bytes it is. With colour, each run of rendered bytes is dim.
func AppendSafe(dst, p []byte, colour bool) []byte {
	dst, _ = render(dst, p, colour, true)
	return dst
}

// SafeWriter passes a byte stream on to a terminal with every byte that
// would act on the terminal shown visibly instead, so a hostile peer
// cannot move the cursor, rewrite the screen, set the window title or
// answer back through the terminal:
//
//   - C0 controls other than tab, newline and carriage return as ^@..^_
//     (ESC as ^[), and DEL as ^?;
//   - C1 controls (U+0080..U+009F), whether sent as UTF-8 or as raw
//     bytes, as \x80..\x9f;
//   - any other byte that is not part of valid UTF-8 as \xNN.
//
// Valid UTF-8 passes unchanged, even when a rune is split across writes.
// A write of plain text goes to the underlying writer as it is, in one
// call and without copying; others are rendered into a reused buffer and
// written in one call.
//
// A SafeWriter is not safe for concurrent use; the stream it carries has
// one writer.
type SafeWriter struct {
	w   io.Writer
	r   renderer
	buf []byte
}

// NewSafeWriter returns a SafeWriter writing to w. With colour, each run
// of rendered bytes is shown dim (SGR 2, then SGR 22).
func NewSafeWriter(w io.Writer, colour bool) *SafeWriter {
	return &SafeWriter{w: w, r: renderer{colour: colour}}
}

// Write renders p and writes it. It returns len(p) when the write
// succeeded, whatever the rendered length, so that byte counts stay
// those of the stream; an incomplete rune at the end of p is held until
// the next Write or Flush. After a failed write of rendered bytes it
// returns 0, as it cannot tell how much of p got through.
func (s *SafeWriter) Write(p []byte) (int, error) {
	if s.r.held == 0 && plainPrefix(p) == len(p) {
		return s.w.Write(p)
	}
	buf := s.r.append(s.buf[:0], p)
	if cap(buf) <= maxKeptBuf {
		s.buf = buf
	}
	if len(buf) > 0 {
		if _, err := s.w.Write(buf); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes a rune still held from the last Write, incomplete as it
// is, as \xNN bytes. Call it when the stream ends.
func (s *SafeWriter) Flush() error {
	if s.r.held == 0 {
		return nil
	}
	_, err := s.w.Write(s.r.flush(nil))
	return err
}

// CloseWrite flushes and then ends the underlying writer's stream, when
// it can do that (it has a CloseWrite method).
func (s *SafeWriter) CloseWrite() error {
	err := s.Flush()
	if cw, ok := s.w.(interface{ CloseWrite() error }); ok {
		if cerr := cw.CloseWrite(); err == nil {
			err = cerr
		}
	}
	return err
}
