package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"gnc/proxy"
	"gnc/relay"
)

// The options of the proxy server endpoints.
var (
	proxyServerKeys  = []string{"auth", "auth-file", "to-allow", "to-deny", "resolve"}
	proxyServerMulti = []string{"auth", "auth-file", "to-allow", "to-deny"}
)

// ProxyServer is the relay endpoint that serves proxy clients ("proxy",
// "socks5", "http-proxy"): paired with a listener, it reads each accepted
// client's request, dials the destination the client asks for (if the
// rules admit it) and answers, and the pairing then relays between the
// client and that destination. It implements relay.PeerOpener; it cannot
// be opened on its own.
type ProxyServer struct {
	cfg       *proxy.ServerConfig
	network   string        // "tcp", "tcp4" or "tcp6"
	timeout   time.Duration // each destination dial; zero: the kernel's
	handshake time.Duration // reading a request
	keepAlive time.Duration
	name      string
}

// Authenticates reports whether every client must give a user name and
// password (auth= or auth-file=).
func (s *ProxyServer) Authenticates() bool { return len(s.cfg.Users) > 0 }

// String is the endpoint's name as written, without its options, which
// may hold passwords.
func (s *ProxyServer) String() string { return s.name }

// Close does nothing: the server holds nothing between clients.
func (s *ProxyServer) Close() error { return nil }

// errNotPeer is Open's error: the proxy answers clients, it has none of
// its own.
var errNotPeer = errors.New("the proxy endpoint serves the clients of a listener, as in \"gnc relay listen:1080 proxy\", and cannot be opened on its own")

// Open fails: see OpenFor.
func (s *ProxyServer) Open(context.Context) (io.ReadWriteCloser, error) {
	return nil, errNotPeer
}

// OpenFor reads the request of client, accepted by the other endpoint,
// within the handshake timeout (the relay's -w, or 10 s); dials the
// destination it asks for, trying each admitted address in turn (never
// looking the name up again); and answers with the outcome. It returns
// the client (behind the bytes it sent past its request, if any) and the
// socket to the destination, a *TunnelConn. A refused request has been
// answered, in the client's protocol, when the error comes back.
func (s *ProxyServer) OpenFor(ctx context.Context, client relay.Conn) (relay.Conn, relay.Conn, error) {
	nc, ok := client.(net.Conn)
	if !ok {
		return client, nil, fmt.Errorf("proxy: %s is not a network connection and cannot carry a proxy request", relay.PeerName(client))
	}
	hctx, cancel := context.WithTimeout(ctx, s.handshake)
	req, err := proxy.Accept(hctx, nc, s.cfg)
	cancel()
	if err != nil {
		return client, nil, err
	}
	fail := func(what string, err error) error {
		return &proxy.RequestError{Client: nc.RemoteAddr().String(), Proto: req.Proto, Target: req.Target, Reason: what + Reason(err), Err: err}
	}
	tc, err := s.dial(ctx, req)
	if err != nil {
		req.Reply(nc, err, nil)
		return client, nil, fail("", err)
	}
	if err := req.Reply(nc, nil, tc.LocalAddr()); err != nil {
		tc.Close()
		return client, nil, fail("answering: ", err)
	}
	target := &TunnelConn{TCPConn: TCPConn{tc}, dest: req.Target, handshake: req.String()}
	if a, _, err := net.SplitHostPort(req.Target); err == nil && net.ParseIP(a) != nil {
		target.dest = "" // the remote address says it all
	}
	if len(req.Prefix) == 0 {
		return client, target, nil
	}
	switch c := client.(type) {
	case TCPConn:
		return &TunnelConn{TCPConn: c, prefix: req.Prefix}, target, nil
	case *TLSConn:
		return &prefixedTLS{TLSConn: c, prefix: req.Prefix}, target, nil
	}
	// No wrapper keeps what this conn can do: the early bytes go out now,
	// ahead of the relay, which then neither counts nor dumps them.
	if _, err := tc.Write(req.Prefix); err != nil {
		tc.Close()
		return client, nil, fail("forwarding: ", err)
	}
	return client, target, nil
}

// dial connects to the first of the request's admitted addresses that
// answers.
func (s *ProxyServer) dial(ctx context.Context, req *proxy.Request) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: s.timeout, KeepAlive: s.keepAlive}
	if d.KeepAlive <= 0 {
		d.KeepAlive = -1
	}
	var last error
	for _, ip := range req.Addrs {
		if !familyOK(s.network, ip) {
			continue
		}
		c, err := d.DialContext(ctx, s.network, net.JoinHostPort(ip.String(), strconv.Itoa(req.Port)))
		if err == nil {
			return c.(*net.TCPConn), nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	if last == nil {
		last = &net.OpError{Op: "dial", Net: s.network, Err: fmt.Errorf("no %s address: %w", familyName(s.network), proxy.ErrDenied)}
	}
	return nil, last
}

// prefixedTLS is a TLS client of the proxy that sent bytes past its
// request; they go to the destination first (see relay.Prefixed).
type prefixedTLS struct {
	*TLSConn
	prefix []byte
}

func (c *prefixedTLS) TakePrefix() []byte {
	p := c.prefix
	c.prefix = nil
	return p
}

// openProxyServer makes the open function of a proxy server scheme that
// serves kinds (nil: every protocol).
func openProxyServer(kinds []proxy.Kind) func(context.Context, string, options, Defaults) (relay.Endpoint, error) {
	return func(_ context.Context, addr string, o options, d Defaults) (relay.Endpoint, error) {
		name := "proxy"
		switch {
		case len(kinds) == 1 && kinds[0] == proxy.SOCKS5:
			name = "socks5"
		case len(kinds) == 1 && kinds[0] == proxy.HTTP:
			name = "http-proxy"
		}
		if addr != "" {
			return nil, syntaxf("%s takes no address (it serves whatever its clients ask for); its options follow after commas, as in \"%s,auth=user:pass\"", name, name)
		}
		cfg := &proxy.ServerConfig{Protocols: kinds, Users: map[string]string{}}
		for _, v := range o["auth"] {
			u, p, err := proxy.ParseUserPass(v)
			if err != nil {
				return nil, syntaxf("auth= takes user:pass")
			}
			if _, dup := cfg.Users[u]; dup {
				return nil, syntaxf("auth= gives a user twice")
			}
			cfg.Users[u] = p
		}
		for _, f := range o["auth-file"] {
			users, err := proxy.ReadAuthFile(f)
			if err != nil {
				var fe *proxy.FileError
				if errors.As(err, &fe) {
					return nil, &FileError{Flag: "auth-file=", Path: fe.Path, Line: fe.Line, Err: fe.Err, Hint: fe.Hint}
				}
				return nil, err
			}
			for u, p := range users {
				if _, dup := cfg.Users[u]; dup {
					return nil, &FileError{Flag: "auth-file=", Path: f, Err: errors.New("a user given already by auth= or another auth-file="), Hint: "give each user once"}
				}
				cfg.Users[u] = p
			}
		}
		for _, set := range []struct {
			key string
			dst *[]proxy.Rule
		}{{"to-allow", &cfg.Allow}, {"to-deny", &cfg.Deny}} {
			for _, v := range o[set.key] {
				r, err := proxy.ParseRule(v)
				if err != nil {
					return nil, err
				}
				*set.dst = append(*set.dst, r)
			}
		}
		cfg.Resolve, _ = o.get("resolve")
		network := d.TCP.network()
		switch {
		case cfg.Resolve == "" && network == "tcp4":
			cfg.Resolve = "ipv4"
		case cfg.Resolve == "" && network == "tcp6":
			cfg.Resolve = "ipv6"
		case cfg.Resolve == "ipv4" && network == "tcp6", cfg.Resolve == "ipv6" && network == "tcp4":
			return nil, syntaxf("resolve=%s contradicts %s", cfg.Resolve, familyFlag(network))
		}
		if d.TCP.NoDNS {
			cfg.Resolver = func(_ context.Context, host string) ([]net.IP, error) {
				return nil, &net.DNSError{Err: "name lookups are off (-n)", Name: host, IsNotFound: true}
			}
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		hs := d.Timeout
		if hs <= 0 {
			hs = DefaultHandshakeTimeout
		}
		return &ProxyServer{cfg: cfg, network: network, timeout: d.Timeout, handshake: hs, keepAlive: d.TCP.KeepAlive, name: name}, nil
	}
}

// CheckProxyServer reports, as a usage error (*ParseError), a relay
// between from and to that cannot serve a proxy endpoint on one side (the
// other must be a listener), or that would be an open proxy: one without
// authentication, on a listener whose address is not loopback, whose
// clients acl does not restrict with allow rules. Open proxies are how
// machines end up relaying abuse. Anything else, with or without a proxy
// endpoint, is nil.
func CheckProxyServer(from, to relay.Endpoint, acl *ACL) error {
	for _, pair := range [][2]relay.Endpoint{{from, to}, {to, from}} {
		ps, ok := pair[1].(*ProxyServer)
		if !ok {
			continue
		}
		l, ok := pair[0].(relay.Listener)
		if !ok {
			return &ParseError{What: "relay", Reason: fmt.Sprintf("the %s endpoint serves the clients of a listener, and %s is not one", ps, pair[0]),
				Hint: `pair it with a listening endpoint, as in "gnc relay listen:127.0.0.1:1080 proxy"`}
		}
		if ps.Authenticates() || acl.Restricts() {
			continue
		}
		if ta, ok := l.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
			return &ParseError{What: "relay", Reason: fmt.Sprintf("refusing to run an open proxy: %s on %s takes anyone's requests, without authentication or --allow", ps, ta),
				Hint: fmt.Sprintf(`listen on 127.0.0.1 (listen:127.0.0.1:%d), admit only your clients with --allow CIDR, or require credentials with %s,auth=USER:PASS`, ta.Port, ps)}
		}
	}
	return nil
}
