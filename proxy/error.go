package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// Causes that Error and RequestError unwrap to, for errors.Is.
var (
	// ErrAuth is an authentication that failed: a proxy that refused
	// the credentials or required some, or a client that gave none or
	// wrong ones.
	ErrAuth = errors.New("authentication refused")
	// ErrRejected is a proxy's refusal of a request, its reply code in
	// Error.Code.
	ErrRejected = errors.New("request rejected")
	// ErrProtocol is a peer that does not speak the protocol: a
	// garbled, truncated-by-design or oversized reply or request.
	ErrProtocol = errors.New("protocol violation")
	// ErrDenied is a destination the server's rules refuse.
	ErrDenied = errors.New("destination denied")
	// ErrUnsupported is a request the server does not serve: SOCKS
	// BIND and UDP ASSOCIATE, plain HTTP proxying, a disabled protocol.
	ErrUnsupported = errors.New("not supported")
)

// Error is a failure of the client side: reaching a proxy, or a proxy's
// handshake for a target. Its text is one line naming the proxy (without
// credentials) and the target, such as
//
//	proxy socks5h://127.0.0.1:1080: connect to example.com:443: host unreachable
type Error struct {
	// Proxy is the hop as Hop.String shows it, never with credentials.
	Proxy string
	// Target is the host:port the proxy was asked for.
	Target string
	// Op is what was being done: "connect" (to the target through the
	// proxy) or "resolve" (the target's name, locally).
	Op string
	// Code is the proxy's reply code: the SOCKS5 REP field (0xff for
	// "no acceptable methods"), the SOCKS4 CD field (90-93) or the HTTP
	// status. It is 0 when the proxy sent no code.
	Code int
	// Reason says what went wrong, in RFC 1928's words for a SOCKS5
	// reply code or as the HTTP status line.
	Reason string
	// Hint, if not empty, suggests what to change; it is not part of
	// Error's text (a user interface shows it on a line of its own).
	Hint string
	// Err is the cause: one of ErrAuth, ErrRejected, ErrProtocol, or an
	// I/O or resolver error.
	Err error
}

// Error returns the one-line description.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("proxy ")
	b.WriteString(e.Proxy)
	b.WriteString(": ")
	switch e.Op {
	case "connect":
		b.WriteString("connect to ")
	default:
		b.WriteString(e.Op)
		b.WriteByte(' ')
	}
	b.WriteString(e.Target)
	b.WriteString(": ")
	if e.Reason != "" {
		b.WriteString(e.Reason)
	} else if e.Err != nil {
		b.WriteString(reason(e.Err))
	} else {
		b.WriteString("failed")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// RequestError is a failure of the server side with one client: a
// request that was malformed, unauthenticated, denied or unsupported (the
// proper refusal has been sent), or a conn that failed. Its text is one
// line naming the client and, once known, the target, and never contains
// credentials.
type RequestError struct {
	// Client is the client's address.
	Client string
	// Proto is the protocol the client spoke; 0 when it was not
	// recognised.
	Proto Kind
	// Target is the host:port asked for; empty when the request was not
	// read that far.
	Target string
	// Code is the refusal sent: the SOCKS5 REP or method byte, the SOCKS4
	// CD byte or the HTTP status; 0 when none was sent.
	Code int
	// Reason says why.
	Reason string
	// Err is the cause: ErrAuth, ErrDenied, ErrUnsupported, ErrProtocol,
	// or an I/O or resolver error.
	Err error
}

// Error reads "proxy client 127.0.0.1:40000: socks5 connect to
// 10.0.0.1:22: denied by to-deny 10.0.0.0/8".
func (e *RequestError) Error() string {
	var b strings.Builder
	b.WriteString("proxy client ")
	b.WriteString(e.Client)
	b.WriteString(": ")
	if e.Target != "" {
		b.WriteString(e.Proto.String())
		b.WriteString(" connect to ")
		b.WriteString(e.Target)
		b.WriteString(": ")
	} else if e.Proto != 0 {
		b.WriteString(e.Proto.String())
		b.WriteString(": ")
	}
	if e.Reason != "" {
		b.WriteString(e.Reason)
	} else if e.Err != nil {
		b.WriteString(reason(e.Err))
	} else {
		b.WriteString("failed")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// reason is the part of an I/O or resolver error worth a user's line,
// without the addresses Error already names.
func reason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed during the handshake"
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		if de.IsTimeout {
			return "name lookup timed out"
		}
		return de.Err
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return reason(oe.Err)
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	return err.Error()
}

// socks5Words are RFC 1928's words for the REP codes.
var socks5Words = [...]string{
	0: "succeeded",
	1: "general SOCKS server failure",
	2: "connection not allowed by ruleset",
	3: "network unreachable",
	4: "host unreachable",
	5: "connection refused",
	6: "TTL expired",
	7: "command not supported",
	8: "address type not supported",
}

// SOCKS5Reason returns RFC 1928's words for a SOCKS5 reply code, such as
// "connection refused" for 5, or "unassigned reply code N" for codes
// past 8.
func SOCKS5Reason(code int) string {
	if code >= 0 && code < len(socks5Words) {
		return socks5Words[code]
	}
	return "unassigned reply code " + strconv.Itoa(code)
}

// SOCKS4Reason returns the SOCKS4 protocol's words for a reply code
// (90-93), or "unknown reply code N".
func SOCKS4Reason(code int) string {
	switch code {
	case 90:
		return "request granted"
	case 91:
		return "request rejected or failed"
	case 92:
		return "rejected: the proxy cannot reach identd on the client"
	case 93:
		return "rejected: identd reports a different user"
	}
	return "unknown reply code " + strconv.Itoa(code)
}

// printable returns at most max bytes of s with every byte outside
// printable ASCII replaced by '?', so that text a peer sent (an HTTP
// status line) can go into an error line.
func printable(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
