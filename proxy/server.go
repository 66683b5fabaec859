package proxy

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// ServerConfig is what a proxy server serves. The zero ServerConfig (and
// a nil one) serves every protocol, to every destination, without
// authentication, resolving names with net.DefaultResolver.
type ServerConfig struct {
	// Protocols are the protocols served; empty means SOCKS4, SOCKS4a,
	// SOCKS5 and HTTP. SOCKS5 and SOCKS5h both mean SOCKS5 with
	// addresses and names; SOCKS4a also admits SOCKS4, while SOCKS4
	// alone refuses requests that carry a name (reply 91). A client of a
	// protocol not served gets that protocol's refusal.
	Protocols []Kind
	// Users maps user names to passwords. When it is not empty every
	// client must authenticate: SOCKS5 with user/password (RFC 1929),
	// HTTP with Basic (a 407 challenge otherwise); SOCKS4, which has no
	// password, is refused with reply 91. Empty: no authentication.
	Users map[string]string
	// Allow, when not empty, admits only destinations that match one of
	// its rules; Deny refuses destinations that match any of its rules,
	// whatever Allow says. Name rules are matched against the name a
	// client asked for, address rules against every address it resolves
	// to, so a name cannot smuggle in a denied address.
	Allow, Deny []Rule
	// Resolve chooses the addresses names resolve to: "" or "local" any
	// family, "ipv4" or "ipv6" only that family (an address target of the
	// other family is then refused too).
	Resolve string
	// Resolver looks names up; nil means net.DefaultResolver. Its
	// results are filtered by Resolve.
	Resolver Resolver
}

// Validate reports a configuration Accept cannot serve, as a
// *ParseError: an unknown Resolve, a Protocols entry that is not a
// protocol, a user name or password RFC 1929 cannot carry. Call it once
// when the configuration is made; Accept checks only what is cheap.
func (cfg *ServerConfig) Validate() error {
	if err := cfg.checkCheap(); err != nil {
		return err
	}
	for u, p := range cfg.Users {
		if u == "" || len(u) > 255 || len(p) > 255 {
			return &ParseError{What: "proxy credentials", Reason: "a user name is 1 to 255 bytes, a password at most 255"}
		}
	}
	return nil
}

func (cfg *ServerConfig) checkCheap() error {
	switch cfg.Resolve {
	case "", "local", "ipv4", "ipv6":
	default:
		return &ParseError{What: "resolve", Value: cfg.Resolve, Hint: "resolve= takes local, ipv4 or ipv6"}
	}
	for _, k := range cfg.Protocols {
		if k < SOCKS4 || k > HTTP {
			return &ParseError{What: "proxy protocol", Value: k.String(), Hint: "serve socks4, socks4a, socks5 or http"}
		}
	}
	return nil
}

func (cfg *ServerConfig) serves(k Kind) bool {
	if len(cfg.Protocols) == 0 {
		return true
	}
	for _, p := range cfg.Protocols {
		if p.family() == k.family() && (p == k || k.family() == SOCKS5 || p == SOCKS4a) {
			return true
		}
	}
	return false
}

// Request is a client's request, read and admitted by Accept: the
// destination to dial, and what to answer with Reply.
type Request struct {
	// Proto is what the client spoke: SOCKS4, SOCKS4a (a name was sent),
	// SOCKS5, SOCKS5h (a name was sent) or HTTP (CONNECT).
	Proto Kind
	// Target is the destination as asked, host:port; never empty.
	Target string
	// Port is Target's port.
	Port int
	// Addrs are the addresses to dial, in order, all admitted by the
	// rules: the address asked for, or those Target's name resolved to.
	// Never empty. Dial these, never Target again: a second lookup
	// could return an address the rules refuse.
	Addrs []net.IP
	// User is the authenticated user name; empty without
	// authentication. It is not a secret as the password is, but it is
	// kept out of errors.
	User string
	// Prefix holds bytes the client sent past its request head (data
	// pipelined after an HTTP CONNECT); they go to the destination
	// before anything read from the conn. Usually nil.
	Prefix []byte

	replied bool
}

// String describes the request for a -vv line: "socks5h connect to
// example.com:443 (93.184.215.14)", without credentials.
func (r *Request) String() string {
	s := r.Proto.String() + " connect to " + r.Target
	if len(r.Addrs) > 0 && r.Addrs[0].String() != hostOf(r.Target) {
		s += " (" + r.Addrs[0].String() + ")"
	}
	if r.User != "" {
		s += " (authenticated)"
	}
	return s
}

func hostOf(target string) string {
	h, _, _ := net.SplitHostPort(target)
	return h
}

// refusal is why a request is not served, mapped to each protocol's
// reply by socks5Code and httpStatus (SOCKS4 has only 91).
type refusal int

const (
	refGeneral     refusal = iota // SOCKS5 1, HTTP 502
	refMalformed                  // SOCKS5 1, HTTP 400
	refDenied                     // SOCKS5 2, HTTP 403
	refNetUnreach                 // SOCKS5 3, HTTP 502
	refUnreachable                // SOCKS5 4, HTTP 502
	refRefused                    // SOCKS5 5, HTTP 502
	refTimeout                    // SOCKS5 4, HTTP 504
	refCommand                    // SOCKS5 7, HTTP 501
	refAddrType                   // SOCKS5 8, HTTP 400
	refAuth                       // HTTP 407
	refTooLong                    // HTTP 431
	refNotConnect                 // HTTP 501 with connectOnly
)

func socks5Code(r refusal) byte {
	switch r {
	case refDenied:
		return 2
	case refNetUnreach:
		return 3
	case refUnreachable, refTimeout:
		// Not 6 ("TTL expired"): that is about IP TTLs, and a user
		// reading a client's message would take it literally.
		return 4
	case refRefused:
		return 5
	case refCommand:
		return 7
	case refAddrType:
		return 8
	}
	return 1
}

func httpStatus(r refusal) int {
	switch r {
	case refMalformed, refAddrType:
		return 400
	case refDenied:
		return 403
	case refTimeout:
		return 504
	case refCommand, refNotConnect:
		return 501
	case refAuth:
		return 407
	case refTooLong:
		return 431
	}
	return 502
}

var statusText = map[int]string{
	200: "Connection established",
	400: "Bad Request",
	403: "Forbidden",
	407: "Proxy Authentication Required",
	431: "Request Header Fields Too Large",
	501: "Not Implemented",
	502: "Bad Gateway",
	504: "Gateway Timeout",
}

// httpResponse is a complete error response that closes the connection.
func httpResponse(status int, body string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, statusText[status])
	if status == 407 {
		b.WriteString("Proxy-Authenticate: Basic realm=\"gnc\"\r\n")
	}
	fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	return b.Bytes()
}

// connectOnly is the body of the 501 a plain HTTP proxy request gets.
const connectOnly = "this proxy serves only CONNECT requests (tunnels); it does not fetch http:// URLs\n"

func socks5Failure(code byte) []byte { return []byte{5, code, 0, 1, 0, 0, 0, 0, 0, 0} }

var socks4Failure = []byte{0, 91, 0, 0, 0, 0, 0, 0}

// session is one Accept.
type session struct {
	ctx    context.Context
	c      net.Conn
	cfg    *ServerConfig
	hr     *headReader
	client string
	proto  Kind
	target string
}

// Accept reads a client's proxy request from c: SOCKS4 or SOCKS4a (first
// byte 4), SOCKS5 (5) or an HTTP CONNECT head (a letter), authenticates
// the client, checks the destination against cfg's rules (resolving a
// name first) and returns the Request to dial and then answer with
// Reply. Reads are bounded (SOCKS names and user ids to 255 bytes, an
// HTTP head to 16 KiB) and obey ctx: its deadline is set on c and its
// cancellation fails the reads; c is left with no deadline.
//
// A request that is refused (bad or missing credentials, a destination
// the rules deny or that does not resolve, a malformed request, BIND or
// UDP ASSOCIATE, a plain HTTP proxy request such as "GET http://...",
// which gets 501, a protocol not served) gets the protocol's refusal
// from Accept itself, and the error is a *RequestError naming the client
// and why. c is never closed. A nil cfg serves as the zero ServerConfig;
// a cfg with an unknown Resolve or protocol is a *ParseError (see
// Validate).
func Accept(ctx context.Context, c net.Conn, cfg *ServerConfig) (*Request, error) {
	if cfg == nil {
		cfg = &ServerConfig{}
	}
	s := &session{ctx: ctx, c: c, cfg: cfg, hr: newHeadReader(c, 512, maxHTTPHead), client: "(unknown)"}
	if a := c.RemoteAddr(); a != nil {
		s.client = a.String()
	}
	if err := cfg.checkCheap(); err != nil {
		return nil, err
	}
	stop := bound(ctx, c)
	defer stop()
	if err := s.hr.fill(1); err != nil {
		return nil, s.ioFail(err)
	}
	switch b := s.hr.buf[s.hr.i]; {
	case b == 4:
		return s.socks4()
	case b == 5:
		return s.socks5()
	case b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z':
		return s.http()
	default:
		return nil, &RequestError{Client: s.client, Reason: fmt.Sprintf("not a SOCKS or HTTP proxy request (first byte 0x%02x)", b), Err: ErrProtocol}
	}
}

// ioFail describes a read or write that failed: the client left, or ctx
// ended.
func (s *session) ioFail(err error) error {
	err = ctxErr(s.ctx, err)
	r := reason(err)
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		r = "timed out reading the request"
	}
	return &RequestError{Client: s.client, Proto: s.proto, Target: s.target, Reason: r, Err: err}
}

// refuse sends reply and returns the error saying why.
func (s *session) refuse(reply []byte, code int, reason string, cause error) error {
	s.c.Write(reply) // the error is about the request; a failed write adds nothing
	return &RequestError{Client: s.client, Proto: s.proto, Target: s.target, Code: code, Reason: reason, Err: cause}
}

// refuseAs sends proto's reply for r.
func (s *session) refuseAs(r refusal, reason string, cause error) error {
	switch s.proto.family() {
	case SOCKS5:
		code := socks5Code(r)
		return s.refuse(socks5Failure(code), int(code), reason, cause)
	case SOCKS4:
		return s.refuse(socks4Failure, 91, reason, cause)
	}
	status := httpStatus(r)
	body := reason + "\n"
	if r == refNotConnect {
		body = connectOnly
	}
	return s.refuse(httpResponse(status, body), status, reason, cause)
}

func (s *session) socks5() (*Request, error) {
	s.proto = SOCKS5
	b, err := s.hr.next(2)
	if err != nil {
		return nil, s.ioFail(err)
	}
	n := int(b[1])
	methods, err := s.hr.next(n)
	if err != nil {
		return nil, s.ioFail(err)
	}
	noMethod := []byte{5, 0xff}
	if !s.cfg.serves(SOCKS5) {
		return nil, s.refuse(noMethod, 0xff, "SOCKS5 is not served here", ErrUnsupported)
	}
	offersNone := bytes.IndexByte(methods, 0) >= 0
	offersUserPass := bytes.IndexByte(methods, 2) >= 0
	auth := len(s.cfg.Users) > 0
	var method byte
	switch {
	case auth && offersUserPass, !auth && !offersNone && offersUserPass:
		// Without users, a client that offers only user/password is
		// let in with whatever it sends rather than turned away.
		method = 2
	case auth:
		return nil, s.refuse(noMethod, 0xff, "the client offers no username/password authentication, which this server requires", ErrAuth)
	case offersNone:
		method = 0
	default:
		return nil, s.refuse(noMethod, 0xff, "the client offers no authentication method this server knows", ErrAuth)
	}
	if _, err := s.c.Write([]byte{5, method}); err != nil {
		return nil, s.ioFail(err)
	}
	var user string
	if method == 2 {
		authFail := []byte{1, 1}
		b, err := s.hr.next(2)
		if err != nil {
			return nil, s.ioFail(err)
		}
		if b[0] != 1 || b[1] == 0 {
			return nil, s.refuse(authFail, 0, "not a username/password authentication request", ErrProtocol)
		}
		b, err = s.hr.next(int(b[1]))
		if err != nil {
			return nil, s.ioFail(err)
		}
		u := string(b)
		b, err = s.hr.next(1)
		if err != nil {
			return nil, s.ioFail(err)
		}
		b, err = s.hr.next(int(b[0]))
		if err != nil {
			return nil, s.ioFail(err)
		}
		if auth {
			if !s.cfg.check(u, b) {
				return nil, s.refuse(authFail, 0, "authentication refused", ErrAuth)
			}
			user = u
		}
		if _, err := s.c.Write([]byte{1, 0}); err != nil {
			return nil, s.ioFail(err)
		}
	}
	b, err = s.hr.next(4)
	if err != nil {
		return nil, s.ioFail(err)
	}
	if b[0] != 5 {
		return nil, s.refuseAs(refMalformed, "not a SOCKS5 request", ErrProtocol)
	}
	cmd, atyp := b[1], b[3]
	var host string
	switch atyp {
	case 1, 4:
		size := 4
		if atyp == 4 {
			size = 16
		}
		b, err = s.hr.next(size + 2)
		if err != nil {
			return nil, s.ioFail(err)
		}
		a, _ := netip.AddrFromSlice(b[:size])
		host = a.String()
		b = b[size:]
	case 3:
		s.proto = SOCKS5h
		b, err = s.hr.next(1)
		if err != nil {
			return nil, s.ioFail(err)
		}
		b, err = s.hr.next(int(b[0]) + 2)
		if err != nil {
			return nil, s.ioFail(err)
		}
		host = string(b[:len(b)-2])
		b = b[len(b)-2:]
	default:
		return nil, s.refuseAs(refAddrType, fmt.Sprintf("address type %d not supported", atyp), ErrProtocol)
	}
	port := int(b[0])<<8 | int(b[1])
	if !validHost(host) {
		return nil, s.refuseAs(refMalformed, "malformed host name in the request", ErrProtocol)
	}
	s.target = net.JoinHostPort(host, strconv.Itoa(port))
	switch cmd {
	case 1:
	case 2:
		return nil, s.refuseAs(refCommand, "command not supported (BIND)", ErrUnsupported)
	case 3:
		return nil, s.refuseAs(refCommand, "command not supported (UDP ASSOCIATE)", ErrUnsupported)
	default:
		return nil, s.refuseAs(refCommand, fmt.Sprintf("command not supported (%d)", cmd), ErrUnsupported)
	}
	return s.admit(host, port, user)
}

func (s *session) socks4() (*Request, error) {
	s.proto = SOCKS4
	b, err := s.hr.next(8)
	if err != nil {
		return nil, s.ioFail(err)
	}
	cmd := b[1]
	port := int(b[2])<<8 | int(b[3])
	ip := netip.AddrFrom4([4]byte(b[4:8]))
	isName := b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0
	errLong := errors.New("SOCKS4 user id or host name longer than 255 bytes")
	if _, err := s.hr.until(0, 256, errLong); err != nil {
		if err == errLong {
			return nil, s.refuseAs(refMalformed, err.Error(), ErrProtocol)
		}
		return nil, s.ioFail(err)
	}
	host := ip.String()
	if isName {
		s.proto = SOCKS4a
		name, err := s.hr.until(0, 256, errLong)
		if err != nil {
			if err == errLong {
				return nil, s.refuseAs(refMalformed, err.Error(), ErrProtocol)
			}
			return nil, s.ioFail(err)
		}
		host = string(name[:len(name)-1])
		if !validHost(host) {
			return nil, s.refuseAs(refMalformed, "malformed host name in the request", ErrProtocol)
		}
	}
	s.target = net.JoinHostPort(host, strconv.Itoa(port))
	switch {
	case !s.cfg.serves(s.proto):
		return nil, s.refuseAs(refGeneral, s.proto.String()+" is not served here", ErrUnsupported)
	case len(s.cfg.Users) > 0:
		return nil, s.refuseAs(refAuth, "SOCKS4 has no password and this server requires authentication", ErrAuth)
	case cmd == 2:
		return nil, s.refuseAs(refCommand, "command not supported (BIND)", ErrUnsupported)
	case cmd != 1:
		return nil, s.refuseAs(refCommand, fmt.Sprintf("command not supported (%d)", cmd), ErrUnsupported)
	}
	return s.admit(host, port, "")
}

func (s *session) http() (*Request, error) {
	s.proto = HTTP
	head, err := s.hr.httpHead()
	if err == errHeadTooLong {
		return nil, s.refuseAs(refTooLong, "HTTP request head longer than 16 KiB", ErrProtocol)
	}
	if err != nil {
		return nil, s.ioFail(err)
	}
	line, headers, _ := bytes.Cut(head, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	parts := bytes.Split(line, []byte{' '})
	if len(parts) != 3 || !isToken(parts[0]) || !bytes.HasPrefix(parts[2], []byte("HTTP/1.")) || len(parts[2]) != 8 || !digit(parts[2][7]) {
		return nil, s.refuseAs(refMalformed, "malformed HTTP request line", ErrProtocol)
	}
	method := string(parts[0])
	if !s.cfg.serves(HTTP) {
		return nil, s.refuseAs(refCommand, "HTTP proxying is not served here", ErrUnsupported)
	}
	if method != "CONNECT" {
		return nil, s.refuseAs(refNotConnect, printable(method, 20)+" request: only CONNECT is served", ErrUnsupported)
	}
	host, port, err := splitTarget(string(parts[1]))
	if err != nil {
		return nil, s.refuseAs(refMalformed, "CONNECT needs host:port", ErrProtocol)
	}
	s.target = net.JoinHostPort(host, strconv.Itoa(port))
	var user string
	if len(s.cfg.Users) > 0 {
		u, p, found := basicAuth(headers)
		if !found {
			return nil, s.refuseAs(refAuth, "no credentials (Proxy-Authorization: Basic)", ErrAuth)
		}
		if !s.cfg.check(u, []byte(p)) {
			return nil, s.refuseAs(refAuth, "authentication refused", ErrAuth)
		}
		user = u
	}
	return s.admit(host, port, user)
}

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// basicAuth finds "Proxy-Authorization: Basic b64(user:pass)" among the
// header lines.
func basicAuth(headers []byte) (user, pass string, found bool) {
	for len(headers) > 0 {
		var line []byte
		line, headers, _ = bytes.Cut(headers, []byte{'\n'})
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok || !strings.EqualFold(string(bytes.TrimSpace(name)), "Proxy-Authorization") {
			continue
		}
		scheme, cred, _ := bytes.Cut(bytes.TrimSpace(value), []byte{' '})
		if !strings.EqualFold(string(scheme), "Basic") {
			return "", "", false
		}
		dec, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(cred)))
		if err != nil {
			return "", "", true // present but garbled: refused, not challenged
		}
		u, p, _ := strings.Cut(string(dec), ":")
		return u, p, true
	}
	return "", "", false
}

// check compares a password in constant time.
func (cfg *ServerConfig) check(user string, pass []byte) bool {
	want, ok := cfg.Users[user]
	if !ok {
		want = "\x00not a password\x00" // same work for an unknown user
	}
	return subtle.ConstantTimeCompare([]byte(want), pass) == 1 && ok
}

// admit applies the rules to host (resolving a name) and makes the
// Request.
func (s *session) admit(host string, port int, user string) (*Request, error) {
	cfg := s.cfg
	lit, err := netip.ParseAddr(host)
	isName := err != nil
	if isName {
		for _, r := range cfg.Deny {
			if r.MatchName(host) {
				return nil, s.refuseAs(refDenied, "denied by to-deny "+r.String(), ErrDenied)
			}
		}
	}
	allowName := false
	for _, r := range cfg.Allow {
		if isName && r.MatchName(host) {
			allowName = true
		}
	}
	var addrs []netip.Addr
	if isName {
		found, err := s.lookup(host)
		if err != nil {
			r := refUnreachable
			if isTimeout(err) {
				r = refTimeout
			}
			return nil, s.refuseAs(r, "cannot resolve: "+reason(err), err)
		}
		addrs = found
	} else {
		lit = lit.Unmap()
		if cfg.Resolve == "ipv4" && !lit.Is4() || cfg.Resolve == "ipv6" && !lit.Is6() {
			return nil, s.refuseAs(refDenied, "address family not served (resolve="+cfg.Resolve+")", ErrDenied)
		}
		addrs = []netip.Addr{lit}
	}
	var kept []net.IP
	why := ""
	for _, a := range addrs {
		denied := false
		for _, r := range cfg.Deny {
			if r.MatchAddr(a) {
				denied = true
				if why == "" {
					why = "denied by to-deny " + r.String()
					if isName {
						why += " (" + host + " resolves to " + a.String() + ")"
					}
				}
				break
			}
		}
		if denied {
			continue
		}
		allowed := len(cfg.Allow) == 0 || allowName
		for _, r := range cfg.Allow {
			if !allowed && r.MatchAddr(a) {
				allowed = true
			}
		}
		if !allowed {
			if why == "" {
				why = "not allowed by any to-allow rule"
			}
			continue
		}
		kept = append(kept, net.IP(a.AsSlice()))
	}
	if len(kept) == 0 {
		return nil, s.refuseAs(refDenied, why, ErrDenied)
	}
	return &Request{
		Proto:  s.proto,
		Target: s.target,
		Port:   port,
		Addrs:  kept,
		User:   user,
		Prefix: s.hr.rest(),
	}, nil
}

// lookup resolves a name as cfg.Resolve says, returning unmapped
// addresses of the allowed family.
func (s *session) lookup(host string) ([]netip.Addr, error) {
	network := "ip"
	switch s.cfg.Resolve {
	case "ipv4":
		network = "ip4"
	case "ipv6":
		network = "ip6"
	}
	var ips []net.IP
	var err error
	if s.cfg.Resolver != nil {
		ips, err = s.cfg.Resolver(s.ctx, host)
	} else {
		ips, err = defaultLookup(s.ctx, network, host)
	}
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		a = a.Unmap()
		if network == "ip4" && !a.Is4() || network == "ip6" && !a.Is6() {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		what := "no address"
		switch network {
		case "ip4":
			what = "no IPv4 address"
		case "ip6":
			what = "no IPv6 address"
		}
		return nil, &net.DNSError{Err: what, Name: host, IsNotFound: true}
	}
	return out, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// Reply answers the request on c once the caller has dialed it: with
// err nil the success reply (SOCKS5 with bound, the dialed conn's local
// address, or 0.0.0.0:0 when bound is nil; SOCKS4 90; "HTTP/1.1 200
// Connection established"), otherwise the refusal err maps to: a refused
// connection is SOCKS5 5 / SOCKS4 91 / HTTP 502, an unreachable network
// 3 / 91 / 502, an unreachable host or a name not found 4 / 91 / 502, a
// timeout 4 / 91 / 504, ErrDenied 2 / 91 / 403, anything else 1 / 91 /
// 502. An HTTP refusal carries err's reason as its body. Reply may be
// called once; it returns the write's error.
func (r *Request) Reply(c net.Conn, err error, bound net.Addr) error {
	if r.replied {
		return errors.New("proxy: request already answered")
	}
	r.replied = true
	var msg []byte
	switch {
	case err == nil:
		msg = successReply(r.Proto, bound)
	case r.Proto.family() == SOCKS5:
		msg = socks5Failure(socks5Code(dialRefusal(err)))
	case r.Proto.family() == SOCKS4:
		msg = socks4Failure
	default:
		msg = httpResponse(httpStatus(dialRefusal(err)), "connect to "+r.Target+": "+reason(err)+"\n")
	}
	_, werr := c.Write(msg)
	return werr
}

func successReply(p Kind, bound net.Addr) []byte {
	var ap netip.AddrPort
	if ta, ok := bound.(*net.TCPAddr); ok {
		ap = ta.AddrPort()
	} else if bound != nil {
		ap, _ = netip.ParseAddrPort(bound.String())
	}
	a := ap.Addr().Unmap()
	switch p.family() {
	case SOCKS5:
		if a.Is6() {
			b := a.As16()
			msg := append([]byte{5, 0, 0, 4}, b[:]...)
			return append(msg, byte(ap.Port()>>8), byte(ap.Port()))
		}
		var b [4]byte
		port := uint16(0)
		if a.Is4() {
			b, port = a.As4(), ap.Port()
		}
		msg := append([]byte{5, 0, 0, 1}, b[:]...)
		return append(msg, byte(port>>8), byte(port))
	case SOCKS4:
		msg := []byte{0, 90, 0, 0, 0, 0, 0, 0}
		if a.Is4() {
			b := a.As4()
			msg[2], msg[3] = byte(ap.Port()>>8), byte(ap.Port())
			copy(msg[4:], b[:])
		}
		return msg
	}
	return []byte("HTTP/1.1 200 Connection established\r\n\r\n")
}

// dialRefusal classifies the caller's dial error.
func dialRefusal(err error) refusal {
	if errors.Is(err, ErrDenied) {
		return refDenied
	}
	if isTimeout(err) || errors.Is(err, os.ErrDeadlineExceeded) {
		return refTimeout
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return refUnreachable
	}
	if r, ok := errnoRefusal(err); ok {
		return r
	}
	return refGeneral
}
