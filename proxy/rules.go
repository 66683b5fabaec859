package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// Rule is a destination rule of the server (to-allow=, to-deny=): a CIDR
// or single address, matched against the addresses a destination
// resolves to, or a host name or "*.domain", matched against the name a
// client asked for. The zero Rule matches nothing.
type Rule struct {
	prefix netip.Prefix // CIDR and address rules
	name   string       // host rules: lower case, no trailing dot
	suffix string       // "*.domain" rules: ".domain", lower case
	text   string
}

const ruleHint = `write a CIDR such as "10.0.0.0/8", an address such as "192.0.2.7" or "::1", a host name such as "example.com", or "*.example.com" for every name under it`

// ParseRule reads a destination rule: a CIDR ("10.0.0.0/8", "::1/128"),
// an address ("192.0.2.7"), a host name ("example.com", matched without
// regard to case or a trailing dot) or "*.example.com", which matches
// every name under example.com but not example.com itself. IPv4-mapped
// IPv6 forms are read as the IPv4 they map. Anything else is a
// *ParseError.
func ParseRule(s string) (Rule, error) {
	t := strings.TrimSpace(s)
	bad := func(what string) (Rule, error) {
		return Rule{}, &ParseError{What: what, Value: s, Hint: ruleHint}
	}
	if strings.Contains(t, "/") {
		p, err := netip.ParsePrefix(t)
		if err != nil || p.Addr().Zone() != "" {
			return bad("CIDR")
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return bad("CIDR")
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return Rule{prefix: p.Masked(), text: t}, nil
	}
	if a, err := netip.ParseAddr(t); err == nil {
		if a.Zone() != "" {
			return bad("address")
		}
		a = a.Unmap()
		return Rule{prefix: netip.PrefixFrom(a, a.BitLen()), text: t}, nil
	}
	if d, ok := strings.CutPrefix(t, "*."); ok {
		d = normName(d)
		if !validHost(d) || strings.Contains(d, "*") {
			return bad("domain rule")
		}
		return Rule{suffix: "." + d, text: t}, nil
	}
	n := normName(t)
	if !validHost(n) {
		return bad("destination rule")
	}
	return Rule{name: n, text: t}, nil
}

// String returns the rule as it was written.
func (r Rule) String() string { return r.text }

// IsAddr reports whether r is matched against addresses (a CIDR or an
// address) rather than names.
func (r Rule) IsAddr() bool { return r.prefix.IsValid() }

// MatchName reports whether the host name (not an address) matches a
// host or "*.domain" rule.
func (r Rule) MatchName(host string) bool {
	h := normName(host)
	switch {
	case r.name != "":
		return h == r.name
	case r.suffix != "":
		return len(h) > len(r.suffix) && strings.HasSuffix(h, r.suffix)
	}
	return false
}

// MatchAddr reports whether the address matches a CIDR or address rule.
func (r Rule) MatchAddr(a netip.Addr) bool {
	return r.prefix.IsValid() && r.prefix.Contains(a.Unmap())
}

func normName(s string) string {
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

// FileError is a problem with a file of the server's configuration (an
// auth-file): unreadable, or wrong at a line. Its text never quotes the
// file's contents, which hold passwords.
type FileError struct {
	// Path is the file as given.
	Path string
	// Line is the 1-based line at fault; zero when the whole file is.
	Line int
	// Err says what is wrong.
	Err error
	// Hint, if not empty, suggests a valid form.
	Hint string
}

// Error reads "users.txt:3: no ':' between user and password".
func (e *FileError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.Path, e.Line)
	}
	var pe *os.PathError
	if errors.As(e.Err, &pe) {
		return where + ": " + pe.Err.Error()
	}
	return where + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

const authFileHint = "write one user:password per line; lines starting with # are comments"

// maxAuthFile bounds an auth file so that a wrong path (a device, a huge
// log) cannot make the server read without limit.
const maxAuthFile = 4 << 20

// ReadAuthFile reads a file of "user:password" lines for the server's
// auth-file= option. Blank lines and lines whose first non-blank byte is
// '#' are skipped; a password may contain any byte but a line end,
// including '#' and ':' (the first ':' ends the user name). A missing
// file, a line without ':', an empty user, a user given twice or a
// credential over 255 bytes is a *FileError naming the file and line.
func ReadAuthFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: err, Hint: authFileHint}
	}
	defer f.Close()
	users := make(map[string]string)
	firstLine := make(map[string]int)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 4096)
	read := 0
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSuffix(sc.Text(), "\r")
		read += len(text) + 1
		if read > maxAuthFile {
			return nil, &FileError{Path: path, Line: line, Err: errors.New("file larger than 4 MiB"), Hint: authFileHint}
		}
		trimmed := strings.TrimSpace(text)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		fail := func(msg string) (map[string]string, error) {
			return nil, &FileError{Path: path, Line: line, Err: errors.New(msg), Hint: authFileHint}
		}
		user, pass, ok := strings.Cut(text, ":")
		user = strings.TrimSpace(user)
		switch {
		case !ok:
			return fail("no ':' between user and password")
		case user == "":
			return fail("no user name before ':'")
		case len(user) > 255 || len(pass) > 255:
			return fail("a user name or password is longer than 255 bytes")
		}
		if prev, dup := firstLine[user]; dup {
			return fail(fmt.Sprintf("a user given twice (first on line %d)", prev))
		}
		firstLine[user] = line
		users[user] = pass
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &FileError{Path: path, Err: errors.New("a line longer than 4096 bytes"), Hint: authFileHint}
		}
		return nil, &FileError{Path: path, Err: err, Hint: authFileHint}
	}
	return users, nil
}
