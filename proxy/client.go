package proxy

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	xproxy "golang.org/x/net/proxy"
)

// Resolver looks up the addresses of a host name. The client calls one
// for SOCKS4 and SOCKS5 targets given by name, the server for every name
// a client asks for; the caller's resolver is where -4, -6 and -n apply.
// A nil Resolver means net.DefaultResolver.
type Resolver func(ctx context.Context, host string) ([]net.IP, error)

func defaultLookup(ctx context.Context, network, host string) ([]net.IP, error) {
	return net.DefaultResolver.LookupIP(ctx, network, host)
}

// ContextDialer is how Dial reaches the first proxy of a chain;
// *net.Dialer is one. It should return the socket itself, unwrapped.
type ContextDialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Dial connects to target through chain: it dials the first proxy with
// d, then asks each proxy in turn for the next one and the last for
// target, all over the one conn (see Handshake). It returns that conn,
// the raw socket d returned, and the bytes the last proxy sent past its
// reply, which belong to the target's stream and must be delivered
// before anything read from the conn. An empty chain is an error. On
// failure the conn is closed and the error is an *Error: a first proxy
// that cannot be reached reads "proxy P: connect to T: proxy
// unreachable: connection refused".
func Dial(ctx context.Context, d ContextDialer, chain []Hop, target string, resolve Resolver) (net.Conn, []byte, error) {
	if len(chain) == 0 {
		return nil, nil, &Error{Proxy: "(none)", Target: target, Op: "connect", Reason: "no proxy given", Err: ErrProtocol}
	}
	c, err := d.DialContext(ctx, "tcp", chain[0].Addr)
	if err != nil {
		return nil, nil, Unreachable(chain[0], target, err)
	}
	for i, h := range chain {
		next := target
		if i+1 < len(chain) {
			next = chain[i+1].Addr
		}
		prefix, err := Handshake(ctx, c, h, next, resolve)
		if err != nil {
			c.Close()
			return nil, nil, err
		}
		if i+1 == len(chain) {
			return c, prefix, nil
		}
		if len(prefix) > 0 {
			// A proxy speaks only when spoken to, so bytes here are not
			// the next proxy's and would corrupt its handshake.
			c.Close()
			return nil, nil, &Error{Proxy: h.String(), Target: next, Op: "connect", Reason: "proxy sent data before the next proxy was asked", Err: ErrProtocol}
		}
	}
	panic("unreachable")
}

// Unreachable is the error for a first proxy h that could not be
// dialed (err) on the way to target, for callers that dial it
// themselves: "proxy socks5h://127.0.0.1:1080: connect to
// example.com:443: proxy unreachable: connection refused".
func Unreachable(h Hop, target string, err error) *Error {
	return &Error{Proxy: h.String(), Target: target, Op: "connect", Reason: "proxy unreachable: " + reason(err), Err: err}
}

// Handshake asks the proxy h, over c (already connected to it), for a
// connection to target, a host:port. For SOCKS4 and SOCKS5 a target
// name is resolved with resolve (nil: net.DefaultResolver) and its first
// address sent (the first IPv4 one for SOCKS4); SOCKS4a, SOCKS5h and
// HTTP send the name. The handshake obeys ctx: its deadline is set on c
// and its cancellation fails the I/O; c is left with no deadline.
//
// On success c is the tunnel, unwrapped, and prefix holds any bytes the
// proxy sent past its reply (only an HTTP proxy can: SOCKS replies are
// read exactly), which come before c's own bytes. For a chain, call
// Handshake once per hop on the same c, each asking for the next hop's
// Addr. On failure the error is an *Error naming h (without credentials)
// and target; c is not closed.
//
// Names are sent or resolved as h.Kind says (Kind.RemoteDNS); a caller
// that forbids names (-n) refuses name targets, next hops included,
// before calling, and passes a resolve that honours -4 and -6. SOCKS5 is
// spoken by golang.org/x/net/proxy through its DialWithConn, which runs
// on c as it is.
func Handshake(ctx context.Context, c net.Conn, h Hop, target string, resolve Resolver) (prefix []byte, err error) {
	e := &Error{Proxy: h.String(), Target: target, Op: "connect"}
	fail := func(err error) ([]byte, error) {
		var pe *Error
		if errors.As(err, &pe) && pe.Proxy == "" {
			pe.Proxy, pe.Target = e.Proxy, e.Target
			if pe.Op == "" {
				pe.Op = e.Op
			}
			return nil, pe
		}
		err = ctxErr(ctx, err)
		e.Reason, e.Err = reason(err), err
		return nil, e
	}
	if h.Kind < SOCKS4 || h.Kind > HTTP {
		return fail(&Error{Reason: "unknown proxy protocol " + h.Kind.String(), Err: ErrProtocol})
	}
	host, port, err := splitTarget(target)
	if err != nil {
		return fail(err)
	}
	dest, err := destination(ctx, h.Kind, host, resolve)
	if err != nil {
		if _, ok := err.(*Error); !ok {
			e.Op = "resolve"
		}
		return fail(err)
	}
	stop := bound(ctx, c)
	defer stop()
	switch h.Kind.family() {
	case SOCKS4:
		err = socks4Connect(c, h, dest, port)
	case SOCKS5:
		err = socks5Connect(ctx, c, h, net.JoinHostPort(dest, strconv.Itoa(port)))
	case HTTP:
		prefix, err = httpConnect(c, h, net.JoinHostPort(dest, strconv.Itoa(port)))
	}
	if err != nil {
		return fail(err)
	}
	return prefix, nil
}

// destination returns what is sent to a proxy of kind k for host: the
// name for the kinds that resolve remotely, an address otherwise.
func destination(ctx context.Context, k Kind, host string, resolve Resolver) (string, error) {
	a, err := netip.ParseAddr(host)
	isIP := err == nil
	if isIP {
		a = a.Unmap()
	}
	switch k {
	case SOCKS4, SOCKS4a:
		if isIP {
			if !a.Is4() {
				return "", &Error{Reason: "SOCKS4 carries only IPv4 addresses", Hint: "use a socks5:// or socks5h:// proxy for IPv6", Err: ErrProtocol}
			}
			return a.String(), nil
		}
		if k == SOCKS4a {
			return host, nil
		}
	case SOCKS5:
		if isIP {
			return a.String(), nil
		}
	default:
		return host, nil
	}
	var ips []net.IP
	if resolve != nil {
		ips, err = resolve(ctx, host)
	} else {
		ips, err = defaultLookup(ctx, "ip", host)
	}
	if err != nil {
		return "", err
	}
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		a = a.Unmap()
		if k == SOCKS4 && !a.Is4() {
			continue
		}
		return a.String(), nil
	}
	if k == SOCKS4 {
		return "", &Error{Op: "resolve", Reason: "no IPv4 address, and SOCKS4 carries only IPv4", Hint: "use socks4a:// or socks5h:// to let the proxy resolve the name", Err: &net.DNSError{Err: "no IPv4 address", Name: host, IsNotFound: true}}
	}
	return "", &net.DNSError{Err: "no address", Name: host, IsNotFound: true}
}

// socks4Connect sends a SOCKS4 CONNECT for dest (an IPv4 address) or a
// SOCKS4a one (for a name), and reads the 8-byte reply.
func socks4Connect(c net.Conn, h Hop, dest string, port int) error {
	a, err := netip.ParseAddr(dest)
	name := ""
	if err != nil {
		name = dest
	}
	req := make([]byte, 0, 10+len(h.User)+len(name))
	req = append(req, 4, 1, byte(port>>8), byte(port))
	if name != "" {
		req = append(req, 0, 0, 0, 1) // 0.0.0.x, x != 0: a name follows
	} else {
		ip := a.As4()
		req = append(req, ip[:]...)
	}
	req = append(req, h.User...)
	req = append(req, 0)
	if name != "" {
		req = append(req, name...)
		req = append(req, 0)
	}
	if _, err := c.Write(req); err != nil {
		return err
	}
	var rep [8]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil {
		return err
	}
	return socks4Reply(rep, name != "")
}

// socks4Reply reads a SOCKS4 reply: version 0, then the code.
func socks4Reply(rep [8]byte, sentName bool) error {
	if rep[0] != 0 && rep[0] != 4 { // 4 from servers that echo the version
		return notReply("SOCKS4", rep[0])
	}
	code := int(rep[1])
	switch code {
	case 90:
		return nil
	case 91, 92, 93:
		e := &Error{Code: code, Reason: SOCKS4Reason(code), Err: ErrRejected}
		switch {
		case code == 91 && sentName:
			e.Hint = "some SOCKS4 proxies (dante) do not resolve names: use socks4:// to resolve locally, or socks5h://"
		case code == 92:
			e.Hint = "the proxy wants an identd (RFC 1413) on this host"
		case code == 93:
			e.Hint = "the proxy's identd check disagrees with the user id given"
		}
		return e
	}
	return &Error{Code: code, Reason: "not a SOCKS4 reply (reply code " + strconv.Itoa(code) + ")", Err: ErrProtocol}
}

// notReply describes a reply that does not start as proto's should, with
// a hint when the first byte shows which protocol the proxy speaks.
func notReply(proto string, first byte) error {
	e := &Error{Reason: "not a " + proto + " reply", Err: ErrProtocol}
	switch first {
	case 'H':
		if proto != "HTTP" {
			e.Hint = "the proxy answered in HTTP: use an http:// proxy"
		}
	case 5:
		if proto != "SOCKS5" {
			e.Hint = "the proxy answered in SOCKS5: use a socks5:// or socks5h:// proxy"
		}
	case 0:
		if proto != "SOCKS4" {
			e.Hint = "the proxy answered as SOCKS4 does: use a socks4:// proxy"
		}
	}
	return e
}

// dialWithConn is the method of golang.org/x/net/proxy's SOCKS5 dialer
// that runs the handshake on a conn the caller connected, and leaves it
// unwrapped (its DialContext would wrap it).
type dialWithConn interface {
	DialWithConn(ctx context.Context, c net.Conn, network, address string) (net.Addr, error)
}

// socks5Connect runs the SOCKS5 handshake with golang.org/x/net/proxy.
// It offers no authentication, and user/password too when h has
// credentials.
func socks5Connect(ctx context.Context, c net.Conn, h Hop, dest string) error {
	var auth *xproxy.Auth
	if h.HasAuth() {
		auth = &xproxy.Auth{User: h.User, Password: h.Pass}
	}
	d, err := xproxy.SOCKS5("tcp", h.Addr, auth, nil)
	if err != nil {
		return err
	}
	wc, ok := d.(dialWithConn)
	if !ok {
		return errors.New("golang.org/x/net/proxy's SOCKS5 dialer lacks DialWithConn")
	}
	if _, err := wc.DialWithConn(ctx, c, "tcp", dest); err != nil {
		return socks5Error(err, h.HasAuth())
	}
	return nil
}

// socks5Error turns an error of x/net's SOCKS5 client into an *Error
// with the reply code, or returns the I/O error under it. x/net reports
// protocol outcomes only as the texts of errors.New values, so they are
// matched here; TestSOCKS5ReplyCodes and TestSOCKS5XNetMessages pin every
// one, so an x/net upgrade that changes them fails the tests.
func socks5Error(err error, hadAuth bool) error {
	var oe *net.OpError
	if errors.As(err, &oe) && strings.HasPrefix(oe.Op, "socks") && oe.Err != nil {
		err = oe.Err
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "unknown error "):
		words := strings.TrimPrefix(msg, "unknown error ")
		code := -1
		if n, ok := strings.CutPrefix(words, "unknown code: "); ok {
			if v, err := strconv.Atoi(n); err == nil {
				code = v
			}
		} else {
			for i, w := range socks5Words {
				if w == words {
					code = i
				}
			}
		}
		if code < 0 {
			return &Error{Reason: "SOCKS5 request failed: " + printable(words, 100), Err: ErrRejected}
		}
		e := &Error{Code: code, Reason: SOCKS5Reason(code), Err: ErrRejected}
		if code == 2 {
			e.Hint = "the proxy's rules do not allow this destination"
		}
		return e
	case msg == "no acceptable authentication methods":
		if !hadAuth {
			return &Error{Code: 0xff, Reason: "the proxy requires authentication", Hint: authHint, Err: ErrAuth}
		}
		return &Error{Code: 0xff, Reason: "the proxy accepts none of the offered authentication methods (none, username/password)", Err: ErrAuth}
	case msg == "username/password authentication failed":
		return &Error{Reason: "authentication refused", Hint: "check the proxy user name and password", Err: ErrAuth}
	case strings.HasPrefix(msg, "unexpected protocol version "):
		v, _ := strconv.Atoi(strings.TrimPrefix(msg, "unexpected protocol version "))
		return notReply("SOCKS5", byte(v))
	case msg == "invalid username/password version":
		return &Error{Reason: "not a SOCKS5 authentication reply", Err: ErrProtocol}
	case strings.HasPrefix(msg, "unsupported authentication method "):
		return &Error{Reason: "the proxy chose an authentication method gnc does not offer (" + strings.TrimPrefix(msg, "unsupported authentication method ") + ")", Err: ErrProtocol}
	case msg == "non-zero reserved field", strings.HasPrefix(msg, "unknown address type "):
		return &Error{Reason: "malformed SOCKS5 reply (" + msg + ")", Err: ErrProtocol}
	}
	return err
}

// httpConnect sends "CONNECT authority" and reads the response head.
func httpConnect(c net.Conn, h Hop, authority string) ([]byte, error) {
	var b strings.Builder
	b.Grow(64 + 2*len(authority))
	b.WriteString("CONNECT ")
	b.WriteString(authority)
	b.WriteString(" HTTP/1.1\r\nHost: ")
	b.WriteString(authority)
	b.WriteString("\r\n")
	if h.HasAuth() {
		b.WriteString("Proxy-Authorization: Basic ")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(h.User + ":" + h.Pass)))
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, err
	}
	hr := newHeadReader(c, 1024, maxHTTPHead)
	head, err := hr.httpHead()
	if err == errHeadTooLong {
		return nil, &Error{Reason: "HTTP response head longer than 16 KiB", Err: ErrProtocol}
	}
	if err != nil {
		if hr.j > hr.i && (errors.Is(err, io.ErrUnexpectedEOF)) {
			if _, _, ok := statusLine(hr.buf[hr.i:hr.j]); !ok {
				return nil, notHTTP(hr.buf[hr.i])
			}
		}
		return nil, err
	}
	return httpReply(head, h.HasAuth(), hr.rest())
}

// httpReply checks a CONNECT response head; a 2xx status opens the
// tunnel and returns prefix.
func httpReply(head []byte, hadAuth bool, prefix []byte) ([]byte, error) {
	status, line, ok := statusLine(head)
	if !ok {
		return nil, notHTTP(head[0])
	}
	if status >= 200 && status <= 299 {
		return prefix, nil
	}
	e := &Error{Code: status, Reason: printable(line, 200), Err: ErrRejected}
	// 401 is what tinyproxy answers wrong Proxy-Authorization with.
	if status == 407 || status == 401 {
		e.Err = ErrAuth
		e.Hint = authHint
		if hadAuth {
			e.Hint = "the proxy refused the credentials given: check the user name and password"
		}
	}
	return nil, e
}

func notHTTP(first byte) error {
	e := notReply("HTTP", first).(*Error)
	e.Reason = "malformed HTTP response"
	return e
}

// statusLine reads "HTTP/1.1 200 Connection established" from the start
// of head, returning the status and the line without its line end.
func statusLine(head []byte) (status int, line string, ok bool) {
	end := len(head)
	for i, c := range head {
		if c == '\n' {
			end = i
			break
		}
	}
	l := head[:end]
	if len(l) > 0 && l[len(l)-1] == '\r' {
		l = l[:len(l)-1]
	}
	// HTTP/d.d SP ddd [SP reason]
	if len(l) < 12 || string(l[:5]) != "HTTP/" || !digit(l[5]) || l[6] != '.' || !digit(l[7]) || l[8] != ' ' ||
		!digit(l[9]) || !digit(l[10]) || !digit(l[11]) || len(l) > 12 && l[12] != ' ' {
		return 0, "", false
	}
	status = int(l[9]-'0')*100 + int(l[10]-'0')*10 + int(l[11]-'0')
	return status, string(l), true
}

func digit(c byte) bool { return c >= '0' && c <= '9' }
