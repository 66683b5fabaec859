package conn

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Pin is the SHA-256 of a certificate's DER encoding: what
// `openssl x509 -fingerprint -sha256` prints and OpenBSD's nc -H takes.
// The zero Pin matches nothing real.
type Pin [sha256.Size]byte

// PinOf returns the pin of cert.
func PinOf(cert *x509.Certificate) Pin { return sha256.Sum256(cert.Raw) }

// String is libtls's form: "SHA256:" and lowercase hex.
func (p Pin) String() string { return "SHA256:" + hex.EncodeToString(p[:]) }

// Matches reports whether cert's pin is one of pins, comparing in
// constant time so that a timing does not tell how much of a pin matched.
func Matches(pins []Pin, cert *x509.Certificate) bool {
	got := PinOf(cert)
	ok := 0
	for i := range pins {
		ok |= subtle.ConstantTimeCompare(got[:], pins[i][:])
	}
	return ok == 1
}

const pinHint = `a pin is "SHA256:" and 64 hex digits (as gnc prints it), openssl's colon-separated form, or base64 of the 32 bytes`

// ParsePin reads a certificate pin in any of the forms people paste:
// "SHA256:<hex>" (either case), openssl's "sha256 Fingerprint=AB:CD:..."
// or its "AB:CD:..." part, bare hex, or base64 (standard or URL
// alphabet, padded or not) of the 32 bytes, optionally after "sha256/"
// or "sha256//".
func ParsePin(s string) (Pin, error) {
	var p Pin
	bad := func(reason string) (Pin, error) {
		return Pin{}, &ParseError{What: "pin", Value: s, Reason: reason, Hint: pinHint}
	}
	t := strings.TrimSpace(s)
	// ASCII lowering keeps every byte where it was (strings.ToLower may
	// not), so the index found is an index into t.
	if i := strings.Index(asciiLower(t), "fingerprint="); i >= 0 {
		t = t[i+len("fingerprint="):]
	}
	for _, prefix := range []string{"sha256:", "sha256//", "sha256/", "sha-256:"} {
		if len(t) >= len(prefix) && strings.EqualFold(t[:len(prefix)], prefix) {
			t = t[len(prefix):]
			break
		}
	}
	if t == "" {
		return bad("empty")
	}
	hexed := strings.ReplaceAll(t, ":", "")
	if len(hexed) == 2*len(p) {
		if b, err := hex.DecodeString(hexed); err == nil {
			if strings.Contains(t, ":") && !colonPairs(t) {
				return bad("colons must separate pairs of hex digits")
			}
			copy(p[:], b)
			return p, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(t); err == nil && len(b) == len(p) {
			copy(p[:], b)
			return p, nil
		}
	}
	return bad("not 32 bytes of SHA-256 in hex or base64")
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// colonPairs reports whether t is hex in pairs separated by single colons.
func colonPairs(t string) bool {
	for _, part := range strings.Split(t, ":") {
		if len(part) != 2 {
			return false
		}
	}
	return true
}
