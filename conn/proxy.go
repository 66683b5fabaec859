package conn

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"gnc/proxy"
)

// DefaultProxyTimeout bounds each proxy's handshake when no -w (or
// timeout=) says otherwise. A proxy's answer includes its own connection
// to what it was asked for, so the bound is generous; without one, a
// proxy that accepts and never answers would hold gnc forever.
const DefaultProxyTimeout = 30 * time.Second

// TunnelConn is a TCP socket that carries a stream through a proxy: on the
// client side the socket to the first proxy, once every proxy of the
// chain has opened its tunnel; on the server side (the proxy endpoint)
// the socket to the destination a client asked for, or the client's own
// socket when it sent bytes past its request. It embeds TCPConn, so the
// copy engine splices it as any socket gnc owns; it hands over bytes read
// past a proxy's reply or a client's request through relay.Prefixed.
type TunnelConn struct {
	TCPConn
	dest      string // the destination as asked, host:port; empty: not said
	via       bool   // dest is reached through proxies, not at the remote address
	handshake string // the request, for -vv, without credentials
	prefix    []byte
}

// TakePrefix returns the bytes read past the handshake, once: see
// relay.Prefixed.
func (c *TunnelConn) TakePrefix() []byte {
	p := c.prefix
	c.prefix = nil
	return p
}

// Destination names what the stream was asked for, for messages: the
// destination as the client (or the user) wrote it, "example.com:443",
// followed by " via proxy" when the socket's remote address is a proxy's.
// It is empty when there is nothing to say beyond the remote address.
func (c *TunnelConn) Destination() string {
	if c.dest == "" {
		return ""
	}
	if c.via {
		return c.dest + " via proxy"
	}
	return c.dest
}

// Handshake describes the proxy request that opened the stream, such as
// "socks5h connect to example.com:443 (93.184.215.14)", for a -vv line;
// it is empty on the client side. It never holds credentials.
func (c *TunnelConn) Handshake() string { return c.handshake }

// Via returns the proxies d connects through, in order; nil when it
// connects directly. Messages use it to tell a proxy's address from the
// destination's.
func (d *TCPDialer) Via() []proxy.Hop { return d.Proxies }

// SetProxies makes d connect through chain, after checking it against d's
// options: with NoDNS (-n) neither the destination nor any proxy may be a
// name (a proxy would look the destination up, and gnc would look up the
// proxy), and a SOCKS4 proxy cannot be asked for an IPv6 address. The
// mistakes are *ParseError, usage errors.
func (d *TCPDialer) SetProxies(chain []proxy.Hop) error {
	for i, h := range chain {
		host, _, _ := net.SplitHostPort(h.Addr)
		next := d.Host
		if i+1 < len(chain) {
			next, _, _ = net.SplitHostPort(chain[i+1].Addr)
		}
		if d.NoDNS && !isAddr(host) {
			return &ParseError{What: "proxy", Value: h.String(), Reason: "a host name, and -n forbids name lookups", Hint: "give the proxy's numeric address, or leave out -n"}
		}
		if a, err := netip.ParseAddr(next); err == nil && a.Unmap().Is6() && (h.Kind == proxy.SOCKS4 || h.Kind == proxy.SOCKS4a) {
			return &ParseError{What: "proxy", Value: h.String(), Reason: "SOCKS4 carries only IPv4 addresses, and it is asked for " + next, Hint: "use a socks5:// or socks5h:// proxy for IPv6"}
		}
	}
	if len(chain) > 0 && d.NoDNS && !isAddr(d.Host) {
		return &ParseError{What: "destination", Value: d.Host, Reason: "a host name, and -n forbids name lookups (through a proxy too)", Hint: "give a numeric address, or leave out -n"}
	}
	d.Proxies = chain
	return nil
}

func isAddr(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// targetAddr is the destination the last proxy is asked for: Host, or the
// address a scan resolved it to once, with Port.
func (d *TCPDialer) targetAddr() string {
	host := d.Host
	if len(d.pinned) > 0 {
		host = d.pinned[0].String()
	}
	return net.JoinHostPort(host, strconv.Itoa(d.Port))
}

func (d *TCPDialer) handshakeTimeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultProxyTimeout
}

// dialProxies dials the first proxy, then has each proxy open the way to
// the next, the last to the destination, telling OnHop as each answers.
func (d *TCPDialer) dialProxies(ctx context.Context) (*net.TCPConn, []byte, error) {
	chain, target := d.Proxies, d.targetAddr()
	host, p, err := net.SplitHostPort(chain[0].Addr)
	if err != nil {
		return nil, nil, &ParseError{What: "proxy", Value: chain[0].String(), Reason: "not host:port"}
	}
	port, _ := strconv.Atoi(p)
	c, err := d.connect(ctx, host, port, nil)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return nil, nil, err // the address contradicts -4 or -6: a usage error
		}
		return nil, nil, &proxyUnreachable{proxy.Unreachable(chain[0], target, err)}
	}
	resolve := d.proxyResolver()
	for i, h := range chain {
		next := target
		if i+1 < len(chain) {
			next = chain[i+1].Addr
		}
		t0 := time.Now()
		hctx, cancel := context.WithTimeout(ctx, d.handshakeTimeout())
		prefix, err := proxy.Handshake(hctx, c, h, next, resolve)
		cancel()
		if err != nil {
			c.Close()
			return nil, nil, err
		}
		if d.OnHop != nil {
			d.OnHop(h, next, time.Since(t0))
		}
		if i+1 == len(chain) {
			return c, prefix, nil
		}
		if len(prefix) > 0 {
			// A proxy speaks only when spoken to: bytes here are not the
			// next proxy's, and would garble its handshake.
			c.Close()
			return nil, nil, &proxy.Error{Proxy: h.String(), Target: next, Op: "connect", Reason: "the proxy sent data before the next proxy was asked", Err: proxy.ErrProtocol}
		}
	}
	panic("unreachable")
}

// proxyResolver looks up destination names for the proxies that take an
// address (socks4://, socks5://) as d looks up its own: in the family -4
// or -6 asks for, never with -n.
func (d *TCPDialer) proxyResolver() proxy.Resolver {
	return func(ctx context.Context, host string) ([]net.IP, error) {
		ips, err := d.resolve(ctx, host)
		var re *ResolveError
		if errors.As(err, &re) {
			// The proxy's error names the host already.
			return nil, &net.DNSError{Err: re.Err.Error(), Name: host, IsNotFound: true}
		}
		return ips, err
	}
}

// proxyUnreachable is a first proxy that could not be dialed: unlike a
// proxy's refusal, it fails every connection alike, so a scan stops at it.
type proxyUnreachable struct{ err *proxy.Error }

func (e *proxyUnreachable) Error() string { return e.err.Error() }

// Unwrap gives the *proxy.Error, whose Hint the user interface shows.
func (e *proxyUnreachable) Unwrap() error { return e.err }

// wholeScanError reports whether err, met on one port of a scan through
// proxies, would be met on every port: the first proxy unreachable, an
// authentication refused, a proxy that does not speak its protocol. A
// proxy's refusal of the one destination only closes that port.
func wholeScanError(err error) bool {
	var pu *proxyUnreachable
	return errors.As(err, &pu) || errors.Is(err, proxy.ErrAuth) || errors.Is(err, proxy.ErrProtocol)
}

// prefixSocket is a socket whose first bytes were read already (past a
// proxy's reply): its Read returns them before the socket's own, for the
// TLS layer, which must see the stream whole.
type prefixSocket struct {
	*net.TCPConn
	prefix []byte
}

func (p *prefixSocket) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.TCPConn.Read(b)
}

// withPrefix is the raw socket a TLS layer reads: c itself, or c behind
// the bytes already read from it.
func withPrefix(c *net.TCPConn, prefix []byte) rawSocket {
	if len(prefix) == 0 {
		return c
	}
	return &prefixSocket{TCPConn: c, prefix: prefix}
}

// ProxyChain reads proxies as the command line or a relay endpoint gives
// them, in order: each a URL or a bare host[:port] whose protocol typ
// names (see proxy.ParseHop), or "env" for the proxy the environment names
// for a connection to host (see proxy.FromEnvironment; none, or one that
// NO_PROXY exempts host from, adds nothing). getenv is os.Getenv or a
// test's stand-in. A mistake is a *proxy.ParseError, which never quotes
// credentials.
func ProxyChain(values []string, typ, host string, tls bool, getenv func(string) string) ([]proxy.Hop, error) {
	var chain []proxy.Hop
	for _, v := range values {
		if strings.EqualFold(strings.TrimSpace(v), "env") {
			h, ok, err := proxy.FromEnvironment(getenv, host, tls)
			if err != nil {
				return nil, err
			}
			if ok {
				chain = append(chain, h)
			}
			continue
		}
		h, err := proxy.ParseHop(v, typ)
		if err != nil {
			return nil, err
		}
		chain = append(chain, h)
	}
	return chain, nil
}

// secretKeys are the endpoint options whose values are secrets, or may
// hold some, and are never quoted in messages.
var secretKeys = map[string]bool{"auth": true, "proxy": true}

// redactEndpoint returns an endpoint as written, with the credentials in
// its options replaced by "***", for error messages. A secret with a
// comma in it runs on into what look like more options, so an auth=
// value is taken to run up to the next known option, and a proxy= URL's
// credentials up to the last '@' of all.
func redactEndpoint(s string) string {
	body, opts, ok := strings.Cut(s, ",")
	if !ok {
		return s
	}
	parts := strings.Split(opts, ",")
	out := make([]string, 0, len(parts))
	for i := 0; i < len(parts); i++ {
		k, v, hasValue := strings.Cut(parts[i], "=")
		key := strings.ToLower(strings.TrimSpace(k))
		if !hasValue || !secretKeys[key] {
			out = append(out, parts[i])
			continue
		}
		if key == "auth" {
			for i+1 < len(parts) && !knownKey(parts[i+1]) {
				i++
			}
			v = "***"
		} else {
			// A URL's credentials end at its last '@', which may lie in a
			// later part: hide up to the last '@' of all, to be safe.
			last := i
			for j := i + 1; j < len(parts); j++ {
				if strings.Contains(parts[j], "@") {
					last = j
				}
			}
			for ; i < last; i++ {
				v += "," + parts[i+1]
			}
			v = proxy.Redact(v)
		}
		out = append(out, k+"="+v)
	}
	return body + "," + strings.Join(out, ",")
}

// knownKey reports whether part ("key=value" or "flag") starts with an
// option some endpoint takes.
func knownKey(part string) bool {
	k, _, _ := strings.Cut(part, "=")
	k = strings.ToLower(strings.TrimSpace(k))
	for _, sc := range schemes {
		if slices.Contains(sc.keys, k) {
			return true
		}
	}
	return false
}
