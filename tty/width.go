package tty

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// wide are the ranges of runes a terminal shows two cells wide: East
// Asian Wide and Fullwidth characters and the emoji shown as such. It is
// an approximation of Unicode's EastAsianWidth table, good enough to keep
// the cursor where it belongs on the line being edited.
var wide = [][2]rune{
	{0x1100, 0x115f}, {0x231a, 0x231b}, {0x2329, 0x232a}, {0x23e9, 0x23ec},
	{0x23f0, 0x23f0}, {0x23f3, 0x23f3}, {0x25fd, 0x25fe}, {0x2614, 0x2615},
	{0x2648, 0x2653}, {0x267f, 0x267f}, {0x2693, 0x2693}, {0x26a1, 0x26a1},
	{0x26aa, 0x26ab}, {0x26bd, 0x26be}, {0x26c4, 0x26c5}, {0x26ce, 0x26ce},
	{0x26d4, 0x26d4}, {0x26ea, 0x26ea}, {0x26f2, 0x26f3}, {0x26f5, 0x26f5},
	{0x26fa, 0x26fa}, {0x26fd, 0x26fd}, {0x2705, 0x2705}, {0x270a, 0x270b},
	{0x2728, 0x2728}, {0x274c, 0x274c}, {0x274e, 0x274e}, {0x2753, 0x2755},
	{0x2757, 0x2757}, {0x2795, 0x2797}, {0x27b0, 0x27b0}, {0x27bf, 0x27bf},
	{0x2b1b, 0x2b1c}, {0x2b50, 0x2b50}, {0x2b55, 0x2b55}, {0x2e80, 0x303e},
	{0x3041, 0x33ff}, {0x3400, 0x4dbf}, {0x4e00, 0x9fff}, {0xa000, 0xa4cf},
	{0xa960, 0xa97f}, {0xac00, 0xd7a3}, {0xf900, 0xfaff}, {0xfe10, 0xfe19},
	{0xfe30, 0xfe6f}, {0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x16fe0, 0x16fe4},
	{0x17000, 0x18cff}, {0x1b000, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf},
	{0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f251}, {0x1f300, 0x1f64f},
	{0x1f680, 0x1f6ff}, {0x1f7e0, 0x1f7eb}, {0x1f90c, 0x1f9ff}, {0x1fa70, 0x1faff},
	{0x20000, 0x2fffd}, {0x30000, 0x3fffd},
}

// runeWidth is how many cells a terminal gives r, a printable rune:
// 0 for combining marks, 2 for wide characters, 1 otherwise.
func runeWidth(r rune) int {
	if r < 0x300 {
		return 1
	}
	if unicode.In(r, unicode.Mn, unicode.Me) {
		return 0
	}
	i := sort.Search(len(wide), func(i int) bool { return wide[i][1] >= r })
	if i < len(wide) && wide[i][0] <= r {
		return 2
	}
	return 1
}

// rawByte is the rune that stands for a byte of invalid UTF-8 in a line
// being edited: the lone surrogates U+DC80..U+DCFF, which valid UTF-8
// cannot hold, so the byte goes out as it came in.
func rawByte(b byte) rune { return 0xdc00 + rune(b) }

// isRawByte reports whether r stands for a byte of invalid UTF-8.
func isRawByte(r rune) bool { return r >= 0xdc80 && r <= 0xdcff }

// appendLine appends the bytes of a line being edited.
func appendLine(dst []byte, line []rune) []byte {
	for _, r := range line {
		if isRawByte(r) {
			dst = append(dst, byte(r-0xdc00))
			continue
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// decodeLine turns bytes into the runes of a line to edit, keeping
// invalid UTF-8 as raw bytes.
func decodeLine(p []byte) []rune {
	line := make([]rune, 0, len(p))
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			r = rawByte(p[0])
		}
		line = append(line, r)
		p = p[size:]
	}
	return line
}

// appendDisplay appends how r, a rune of the line being edited, is shown
// and returns the cells it takes. Controls and invalid bytes are shown as
// SafeWriter shows them; format characters (bidirectional overrides,
// zero-width joiners) as \uXXXX, so that what is shown is what is sent.
func appendDisplay(dst []byte, r rune, colour bool) ([]byte, int) {
	var special []byte
	var tmp [10]byte
	switch {
	case r < 0x20 || r == 0x7f:
		special = appendControl(tmp[:0], byte(r))
	case r >= 0x80 && r < 0xa0:
		special = appendHex(tmp[:0], byte(r))
	case isRawByte(r):
		special = appendHex(tmp[:0], byte(r-0xdc00))
	case unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r >= 0xd800 && r < 0xe000:
		const digits = "0123456789abcdef"
		special = append(tmp[:0], '\\', 'u', digits[r>>12&0xf], digits[r>>8&0xf], digits[r>>4&0xf], digits[r&0xf])
		if r > 0xffff {
			special = append(tmp[:0], '\\', 'U', digits[r>>20&0xf], digits[r>>16&0xf], digits[r>>12&0xf], digits[r>>8&0xf], digits[r>>4&0xf], digits[r&0xf])
		}
	default:
		return utf8.AppendRune(dst, r), runeWidth(r)
	}
	if colour {
		dst = append(dst, dimOn...)
	}
	dst = append(dst, special...)
	if colour {
		dst = append(dst, dimOff...)
	}
	return dst, len(special)
}
