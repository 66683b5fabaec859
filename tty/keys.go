package tty

import (
	"bytes"
	"unicode/utf8"
)

// keyKind is what a key does in the line editor.
type keyKind int

const (
	keyNone          keyKind = iota // a key with no binding: ignored
	keyRune                         // insert r
	keyEnter                        // CR or LF: send the line
	keyInterrupt                    // Ctrl-C
	keyEOF                          // Ctrl-D: end of input on an empty line, else delete
	keyBackspace                    // Backspace, Ctrl-H
	keyDelete                       // Delete
	keyLeft                         // Left, Ctrl-B
	keyRight                        // Right, Ctrl-F
	keyHome                         // Home, Ctrl-A
	keyEnd                          // End, Ctrl-E
	keyWordLeft                     // Alt-B, Ctrl-Left
	keyWordRight                    // Alt-F, Ctrl-Right
	keyUp                           // Up, Ctrl-P: older history
	keyDown                         // Down, Ctrl-N: newer history
	keyKillEnd                      // Ctrl-K
	keyKillStart                    // Ctrl-U
	keyKillWordBack                 // Ctrl-W (to whitespace)
	keyKillAlnumBack                // Alt-Backspace (to a word of letters and digits)
	keyKillWordFwd                  // Alt-D
	keyYank                         // Ctrl-Y
	keyTranspose                    // Ctrl-T
	keyClear                        // Ctrl-L
	keyPasteStart                   // ESC [ 200 ~
	keyPasteEnd                     // ESC [ 201 ~
)

type key struct {
	kind keyKind
	r    rune // for keyRune
	cr   bool // for keyEnter: it was a CR
}

// maxSeq bounds an escape sequence: one longer than this without its
// final byte is not a key and is dropped.
const maxSeq = 32

var pasteEnd = []byte("\x1b[201~")

// ctrlKeys are the bindings of the C0 controls outside a paste.
var ctrlKeys = [0x20]keyKind{
	0x01: keyHome, 0x02: keyLeft, 0x03: keyInterrupt, 0x04: keyEOF, 0x05: keyEnd,
	0x06: keyRight, 0x08: keyBackspace, 0x0b: keyKillEnd, 0x0c: keyClear,
	0x0e: keyDown, 0x10: keyUp, 0x14: keyTranspose, 0x15: keyKillStart,
	0x17: keyKillWordBack, 0x19: keyYank,
}

// decodeKey decodes the key at the start of b and returns it with the
// number of bytes it took; n == 0 means b holds only the start of a key
// and more input is needed. Inside a bracketed paste everything is text
// except the paste's end and line ends.
func decodeKey(b []byte, paste bool) (k key, n int) {
	if len(b) == 0 {
		return key{}, 0
	}
	c := b[0]
	switch {
	case c == '\r' || c == '\n':
		return key{kind: keyEnter, cr: c == '\r'}, 1
	case paste && c == 0x1b:
		if bytes.HasPrefix(b, pasteEnd) {
			return key{kind: keyPasteEnd}, len(pasteEnd)
		}
		if bytes.HasPrefix(pasteEnd, b) {
			return key{}, 0
		}
		return key{kind: keyRune, r: 0x1b}, 1
	case paste && c < utf8.RuneSelf:
		return key{kind: keyRune, r: rune(c)}, 1
	case c == 0x1b:
		return decodeEscape(b)
	case c == '\t':
		return key{kind: keyRune, r: '\t'}, 1
	case c < 0x20:
		return key{kind: ctrlKeys[c]}, 1
	case c == 0x7f:
		return key{kind: keyBackspace}, 1
	case c < utf8.RuneSelf:
		return key{kind: keyRune, r: rune(c)}, 1
	}
	if !utf8.FullRune(b) {
		return key{}, 0
	}
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError && size == 1 {
		r = rawByte(c)
	}
	return key{kind: keyRune, r: r}, size
}

// decodeEscape decodes a key that starts with ESC: a CSI or SS3 sequence
// (arrows, Home, End, Delete, the paste markers), or Alt with a key.
func decodeEscape(b []byte) (key, int) {
	if len(b) < 2 {
		return key{}, 0
	}
	switch b[1] {
	case '[':
		return decodeCSI(b)
	case 'O':
		if len(b) < 3 {
			return key{}, 0
		}
		return key{kind: finalKey(b[2], "")}, 3
	case 'b', 'B':
		return key{kind: keyWordLeft}, 2
	case 'f', 'F':
		return key{kind: keyWordRight}, 2
	case 'd', 'D':
		return key{kind: keyKillWordFwd}, 2
	case 0x7f, 0x08:
		return key{kind: keyKillAlnumBack}, 2
	}
	// A lone ESC, or Alt with a key that has no binding: drop the ESC and
	// let what follows be read as a key of its own.
	return key{}, 1
}

// decodeCSI decodes ESC [ parameters intermediates final.
func decodeCSI(b []byte) (key, int) {
	i := 2
	for i < len(b) && b[i] >= 0x30 && b[i] <= 0x3f {
		i++
	}
	params := string(b[2:i])
	for i < len(b) && b[i] >= 0x20 && b[i] <= 0x2f {
		i++
	}
	switch {
	case i == len(b) && i < maxSeq:
		return key{}, 0
	case i == len(b):
		return key{}, len(b) // too long to be a key
	case b[i] < 0x40 || b[i] > 0x7e:
		return key{}, i // not a sequence: drop what came so far
	}
	return key{kind: finalKey(b[i], params)}, i + 1
}

// finalKey is the key of a CSI or SS3 sequence with final byte f.
func finalKey(f byte, params string) keyKind {
	// A modifier comes as a second parameter: 1;5C is Ctrl-Right, 1;3C
	// Alt-Right. Either moves by words; Shift alone moves as usual.
	mod := ""
	if i := bytes.IndexByte([]byte(params), ';'); i >= 0 {
		params, mod = params[:i], params[i+1:]
	}
	word := mod == "3" || mod == "5" || mod == "7"
	switch f {
	case 'A':
		return keyUp
	case 'B':
		return keyDown
	case 'C':
		if word {
			return keyWordRight
		}
		return keyRight
	case 'D':
		if word {
			return keyWordLeft
		}
		return keyLeft
	case 'H':
		return keyHome
	case 'F':
		return keyEnd
	case '~':
		switch params {
		case "1", "7":
			return keyHome
		case "4", "8":
			return keyEnd
		case "3":
			return keyDelete
		case "200":
			return keyPasteStart
		case "201":
			return keyPasteEnd
		}
	}
	return keyNone
}
