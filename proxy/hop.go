// Package proxy speaks the proxy protocols gnc uses and serves: SOCKS4,
// SOCKS4a, SOCKS5 (RFC 1928, with RFC 1929 user/password authentication)
// and HTTP CONNECT (RFC 9110 section 9.3.6), on both sides.
//
// The client side asks a proxy, over a conn the caller has already
// connected, for a connection to a target (Handshake), hop by hop for a
// chain (Dial does the whole chain). The server side reads a client's
// request (Accept), leaves the dial to the caller, and answers
// (Request.Reply). Neither side wraps the conn it is given: once the
// handshake is done the conn is the raw tunnel, so the copy engine can
// splice it, and any bytes read past a reply or request head are handed
// back as a prefix that must be delivered before the conn's own bytes.
//
// Nothing here prints. Errors are single lines naming the proxy (or the
// client) and the target, and never contain a password or a user name.
package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Kind is a proxy protocol. The zero Kind is no protocol and is never
// returned by the parsers.
type Kind uint8

// The protocols. SOCKS5h and SOCKS4a send a target's name to the proxy
// to resolve; SOCKS5 and SOCKS4 resolve it locally and send an address,
// as curl does. HTTP is CONNECT, which always sends the name.
const (
	SOCKS4 Kind = iota + 1
	SOCKS4a
	SOCKS5
	SOCKS5h
	HTTP
)

var kindNames = [...]string{SOCKS4: "socks4", SOCKS4a: "socks4a", SOCKS5: "socks5", SOCKS5h: "socks5h", HTTP: "http"}

// String returns the URL scheme of k ("socks5h", "http"), or "kind(N)"
// for a value that is not a protocol.
func (k Kind) String() string {
	if k >= SOCKS4 && k <= HTTP {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// RemoteDNS reports whether k sends a target's host name to the proxy
// (socks4a, socks5h, http) rather than an address resolved locally. A
// caller that forbids name lookups (nc's -n) must refuse name targets
// itself for these kinds.
func (k Kind) RemoteDNS() bool { return k == SOCKS4a || k == SOCKS5h || k == HTTP }

// family folds the name-resolving variants onto their protocol.
func (k Kind) family() Kind {
	switch k {
	case SOCKS4a:
		return SOCKS4
	case SOCKS5h:
		return SOCKS5
	}
	return k
}

// DefaultPort returns the port a proxy of kind k listens on when none is
// given: 1080 for SOCKS and 3128 for HTTP, as OpenBSD nc uses. It
// returns 0 for a value that is not a protocol.
func DefaultPort(k Kind) int {
	switch k {
	case SOCKS4, SOCKS4a, SOCKS5, SOCKS5h:
		return 1080
	case HTTP:
		return 3128
	}
	return 0
}

// Hop is one proxy of a chain: its protocol, where it listens and the
// credentials to give it. The zero Hop is not usable.
type Hop struct {
	// Kind is the protocol spoken to the proxy.
	Kind Kind
	// Addr is the proxy's host:port, the host a name or an address
	// (an IPv6 one in brackets).
	Addr string
	// User is the SOCKS5 or HTTP Basic user name, or the SOCKS4 user
	// id; empty when none is given.
	User string
	// Pass is the SOCKS5 or HTTP Basic password; empty when none is
	// given. SOCKS4 has no password.
	Pass string
}

// HasAuth reports whether h carries credentials.
func (h Hop) HasAuth() bool { return h.User != "" || h.Pass != "" }

// String returns h as a URL without its credentials, such as
// "socks5h://127.0.0.1:1080", followed by " (with credentials)" when it
// has any. It is what errors and -v lines show.
func (h Hop) String() string {
	s := h.Kind.String() + "://" + h.Addr
	if h.HasAuth() {
		s += " (with credentials)"
	}
	return s
}

// ParseError is a mistake in something the user wrote: a proxy URL, a
// proxy type, credentials, a destination rule. It is a usage error, and
// it mirrors conn.ParseError so the two can be reported alike. Its text
// never contains a password or user name: Value is redacted.
type ParseError struct {
	// What names the kind of thing that was wrong, such as "proxy URL".
	What string
	// Value is the text as the user wrote it, with any credentials
	// replaced by "***"; empty when quoting it would reveal a secret.
	Value string
	// Reason, if not empty, says what is wrong with it.
	Reason string
	// Hint, if not empty, suggests a valid form.
	Hint string
}

// Error reads `invalid proxy URL "socks5://***@h:x": bad port`, or only
// the reason when there is no value to quote.
func (e *ParseError) Error() string {
	if e.Value == "" && e.Reason != "" {
		return e.Reason
	}
	if e.Reason == "" {
		return fmt.Sprintf("invalid %s %q", e.What, e.Value)
	}
	return fmt.Sprintf("invalid %s %q: %s", e.What, e.Value, e.Reason)
}

const (
	urlHint  = `write a proxy as "socks5h://[user:pass@]host[:port]" (or socks5://, socks4://, socks4a://) or "http://[user:pass@]host[:port]"`
	hopHint  = `write a proxy as host[:port] with -X 4|5|connect or --proxy-type socks4|socks5|http, or as a URL such as "socks5h://host:1080"`
	typeHint = `-X takes 4, 5 or connect; --proxy-type takes socks4, socks5 or http (also socks4a, socks5h)`
	credHint = `percent-encode '@', ':', '/', '?' and '#' in a user name or password (%40, %3A, %2F, %3F, %23)`
	authHint = `give credentials with --proxy-auth USER:PASS, -P USER, or in the proxy URL`
)

// Redact returns s with everything between a URL's "scheme://" (or the
// start) and the last '@' replaced by "***", so that a proxy URL can be
// quoted without its credentials. Text without '@' is returned as is.
func Redact(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 && i < at && isSchemeToken(s[:i]) {
		prefix = s[:i+3]
	}
	return prefix + "***" + s[at:]
}

func isSchemeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

func kindOfScheme(s string) Kind {
	switch strings.ToLower(s) {
	case "socks4":
		return SOCKS4
	case "socks4a":
		return SOCKS4a
	case "socks5":
		return SOCKS5
	case "socks5h":
		return SOCKS5h
	case "http":
		return HTTP
	}
	return 0
}

// ParseURL reads a proxy URL: scheme://[user[:pass]@]host[:port][/],
// the scheme one of socks4, socks4a, socks5, socks5h and http (any
// case). The port defaults to DefaultPort; user and password are
// percent-decoded. A path, query or fragment, an unknown scheme, a bad
// port or host, or credentials the protocol cannot carry are a
// *ParseError, whose text never includes the credentials.
func ParseURL(s string) (Hop, error) {
	red := Redact(s)
	bad := func(reason, hint string) (Hop, error) {
		return Hop{}, &ParseError{What: "proxy URL", Value: red, Reason: reason, Hint: hint}
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !isSchemeToken(scheme) {
		return bad("no scheme", urlHint)
	}
	kind := kindOfScheme(scheme)
	if kind == 0 {
		if strings.EqualFold(scheme, "https") {
			return bad("HTTPS proxies (TLS to the proxy) are not supported", urlHint)
		}
		return bad(fmt.Sprintf("unknown scheme %q", scheme), urlHint)
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, rest = rest[:i], rest[i:]
		if rest != "/" {
			if strings.Contains(rest, "@") {
				return bad("a proxy URL has no path, query or fragment", credHint)
			}
			return bad("a proxy URL has no path, query or fragment", urlHint)
		}
	}
	var h Hop
	h.Kind = kind
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo := authority[:at]
		authority = authority[at+1:]
		rawUser, rawPass, _ := strings.Cut(userinfo, ":")
		user, err1 := url.PathUnescape(rawUser)
		pass, err2 := url.PathUnescape(rawPass)
		if err1 != nil || err2 != nil {
			return bad("bad percent-encoding in the credentials", credHint)
		}
		if reason, hint := checkAuth(kind, user, pass); reason != "" {
			if hint == "" {
				hint = urlHint
			}
			return bad(reason, hint)
		}
		h.User, h.Pass = user, pass
	}
	addr, reason := parseHostPort(authority, kind, true)
	if reason != "" {
		return bad(reason, urlHint)
	}
	h.Addr = addr
	return h, nil
}

// ParseHop reads a proxy as the command line gives it: either a URL (see
// ParseURL) or nc's and ncat's bare host[:port], whose protocol typ names
// as -X does ("4", "5", "connect") or as --proxy-type does ("socks4",
// "socks5", "http"; also "socks4a" and "socks5h"). An empty typ means
// SOCKS5, nc's default. With a URL, a typ of another protocol than the
// scheme's is a usage error; one of the same protocol defers to the
// scheme (so "-X 5" with "socks5h://" is SOCKS5h). A bare address
// cannot carry credentials: they come from Hop.WithAuth.
func ParseHop(s, typ string) (Hop, error) {
	var kind Kind
	if typ != "" {
		kind = kindOfType(typ)
		if kind == 0 {
			return Hop{}, &ParseError{What: "proxy type", Value: typ, Hint: typeHint}
		}
	}
	if strings.Contains(s, "://") {
		h, err := ParseURL(s)
		if err != nil {
			return Hop{}, err
		}
		if kind != 0 && kind.family() != h.Kind.family() {
			return Hop{}, &ParseError{What: "proxy", Value: Redact(s),
				Reason: fmt.Sprintf("the URL says %s but the proxy type says %s", h.Kind, kind),
				Hint:   "give the protocol once, in the URL's scheme or with -X/--proxy-type"}
		}
		return h, nil
	}
	if kind == 0 {
		kind = SOCKS5
	}
	bad := func(reason, hint string) (Hop, error) {
		return Hop{}, &ParseError{What: "proxy", Value: Redact(s), Reason: reason, Hint: hint}
	}
	if strings.Contains(s, "@") {
		return bad("a bare proxy address cannot carry credentials", authHint)
	}
	if s == "" {
		return bad("no proxy given", hopHint)
	}
	addr, reason := parseHostPort(s, kind, false)
	if reason != "" {
		return bad(reason, hopHint)
	}
	return Hop{Kind: kind, Addr: addr}, nil
}

func kindOfType(typ string) Kind {
	switch strings.ToLower(typ) {
	case "4", "socks4":
		return SOCKS4
	case "socks4a":
		return SOCKS4a
	case "5", "socks5":
		return SOCKS5
	case "socks5h":
		return SOCKS5h
	case "connect", "http":
		return HTTP
	}
	return 0
}

// WithAuth returns h with credentials set, checked against what h's
// protocol can carry: SOCKS5 takes a user name and a password of 1 to
// 255 bytes each (RFC 1929), SOCKS4 only a user id without NUL bytes,
// HTTP Basic a user name without ':'. The error, a *ParseError, never
// quotes them.
func (h Hop) WithAuth(user, pass string) (Hop, error) {
	if reason, hint := checkAuth(h.Kind, user, pass); reason != "" {
		return Hop{}, &ParseError{What: "proxy credentials", Reason: reason, Hint: hint}
	}
	h.User, h.Pass = user, pass
	return h, nil
}

// ParseUserPass splits "user:pass" (ncat's --proxy-auth, the server's
// auth=) at its first colon. Without a colon the whole is the user and
// the password is empty. An empty user is a *ParseError that never quotes
// the input.
func ParseUserPass(s string) (user, pass string, err error) {
	user, pass, _ = strings.Cut(s, ":")
	if user == "" {
		return "", "", &ParseError{What: "credentials", Reason: "credentials need a user name before the ':'", Hint: "write credentials as USER:PASS"}
	}
	return user, pass, nil
}

func checkAuth(k Kind, user, pass string) (reason, hint string) {
	switch k.family() {
	case SOCKS4:
		if pass != "" {
			return "SOCKS4 has no password, only a user id", "give only a user id (socks4://user@host), or use socks5"
		}
		if strings.IndexByte(user, 0) >= 0 || len(user) > 255 {
			return "a SOCKS4 user id is at most 255 bytes, without NUL", ""
		}
	case SOCKS5:
		if user == "" || len(user) > 255 {
			return "a SOCKS5 user name is 1 to 255 bytes", ""
		}
		if len(pass) > 255 {
			return "a SOCKS5 password is at most 255 bytes", ""
		}
	case HTTP:
		if strings.IndexByte(user, ':') >= 0 {
			return "an HTTP Basic user name cannot contain ':'", ""
		}
		if len(user)+len(pass) > 4096 {
			return "HTTP credentials longer than 4096 bytes", ""
		}
	}
	return "", ""
}

// parseHostPort reads host[:port] (host a name, an IPv4 address or an
// IPv6 one in brackets, or, outside a URL, bare if no port follows) and
// returns it as host:port with kind's default port filled in.
func parseHostPort(s string, kind Kind, inURL bool) (string, string) {
	if s == "" {
		return "", "no host"
	}
	var host, port string
	switch {
	case s[0] == '[':
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "missing ']' after an IPv6 address"
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", "unexpected text after ']'"
			}
			port = rest[1:]
			if port == "" {
				return "", "no port after ':'"
			}
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "not an IPv6 address in brackets"
		}
	case strings.Count(s, ":") > 1:
		if inURL {
			return "", "an IPv6 address in a URL goes in brackets, as in [::1]:1080"
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return "", "an IPv6 address with a port goes in brackets, as in [::1]:1080"
		}
		host = s
	default:
		var ok bool
		host, port, ok = strings.Cut(s, ":")
		if ok && port == "" {
			return "", "no port after ':'"
		}
		if !validHost(host) {
			return "", "not a host name or address"
		}
	}
	p := DefaultPort(kind)
	if port != "" {
		n, ok := parsePort(port)
		if !ok {
			return "", "a port is a number from 1 to 65535"
		}
		p = n
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), ""
}

// parsePort reads a decimal port from 1 to 65535.
func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= 1 && n <= 65535
}

// validHost accepts an IP address or a host name of letters, digits,
// '-', '_' and dots, at most 255 bytes (the SOCKS5 limit), with no empty
// label but an optional trailing dot. It keeps anything that could break
// a request's framing or a terminal out of requests and error lines.
func validHost(s string) bool {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Zone() == ""
	}
	if s == "" || len(s) > 255 {
		return false
	}
	prev := byte('.')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.':
			if prev == '.' {
				return false
			}
		default:
			return false
		}
		prev = c
	}
	return true
}

// splitTarget reads a target host:port for a request: the host a valid
// name or address, the port 1 to 65535.
func splitTarget(target string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(target)
	if err != nil {
		return "", 0, &ParseError{What: "target", Value: target, Reason: "not host:port"}
	}
	n, ok := parsePort(p)
	if !ok {
		return "", 0, &ParseError{What: "target", Value: target, Reason: "a port is a number from 1 to 65535"}
	}
	if !validHost(h) {
		return "", 0, &ParseError{What: "target", Value: target, Reason: "not a host name or address"}
	}
	return h, n, nil
}
