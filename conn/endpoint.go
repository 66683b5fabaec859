package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"gnc/proxy"
	"gnc/relay"
)

// Defaults carry the relay command's flags into every endpoint; an
// endpoint's own options override them.
type Defaults struct {
	// MaxSessions bounds the sessions of each udp-listen: endpoint at
	// once (-m): datagrams from new senders beyond it are dropped. Zero
	// or negative: no bound.
	MaxSessions int
	// Admit, if not nil, is asked by udp-listen: endpoints about each new
	// sender, whose datagrams are dropped if it returns an error (the
	// relay's --allow and --deny).
	Admit AdmitFunc
	// OnDrop, if not nil, is told once per sender and reason of the
	// datagrams a udp-listen: or datagram endpoint drops; it must not
	// block.
	OnDrop DropFunc

	TCP TCPOptions
	// Timeout bounds each connection attempt of dialing endpoints; zero or
	// negative: the kernel's own limit.
	Timeout time.Duration
	// Shared lets stdio serve many conns at once (relay -k with a
	// listener).
	Shared bool
	// KeyLog receives TLS key-log lines (SSLKEYLOGFILE); nil: none.
	KeyLog io.Writer
	// Terminal is how a stdio endpoint treats a terminal (a relay shows
	// what arrives safely, and does not edit lines).
	Terminal TerminalOptions
	// Getenv reads the environment for proxy=env; nil means os.Getenv.
	Getenv func(string) string
	// OnHop is given to every dialer that goes through proxies (see
	// TCPDialer.OnHop); nil: nothing is told.
	OnHop func(hop proxy.Hop, next string, elapsed time.Duration)
}

func (d Defaults) getenv() func(string) string {
	if d.Getenv == nil {
		return os.Getenv
	}
	return d.Getenv
}

// scheme is one kind of endpoint: "SCHEME:ADDRESS[,KEY[=VALUE]]...".
type scheme struct {
	names []string // the first is the canonical one
	bare  bool     // the name alone is the endpoint ("proxy", "proxy,auth=u:p")
	form  string   // a valid form, for hints
	keys  []string // the options it takes
	multi []string // the options that may be given more than once
	open  func(ctx context.Context, addr string, o options, d Defaults) (relay.Endpoint, error)
}

// The TLS options of dialing and of listening endpoints.
var (
	tlsClientKeys = []string{"servername", "ca", "pin", "cert", "key", "alpn", "insecure", "tls-min"}
	tlsServerKeys = []string{"cert", "key", "client-ca", "client-pin", "alpn", "tls-min"}
)

// schemes lists the endpoint kinds; a new kind is one more entry.
var schemes = []*scheme{
	{
		names: []string{"tcp"},
		form:  "tcp:HOST:PORT (or just HOST:PORT)",
		keys:  append([]string{"bind", "timeout", "keepalive", "ipv4", "ipv6", "tls", "proxy"}, tlsClientKeys...),
		multi: []string{"pin", "proxy"},
		open:  openTCP,
	},
	{
		names: []string{"tls", "ssl", "openssl"},
		form:  "tls:HOST:PORT",
		keys:  append([]string{"bind", "timeout", "keepalive", "ipv4", "ipv6", "proxy"}, tlsClientKeys...),
		multi: []string{"pin", "proxy"},
		open:  openTLS,
	},
	{
		names: []string{"listen", "tcp-listen", "tcp-l"},
		form:  "listen:[ADDR:]PORT",
		keys:  append([]string{"keepalive", "ipv4", "ipv6", "tls"}, tlsServerKeys...),
		multi: []string{"client-pin"},
		open:  openListen,
	},
	{
		names: []string{"udp", "udp-connect", "udp-sendto"},
		form:  "udp:HOST:PORT",
		keys:  []string{"bind", "ipv4", "ipv6"},
		open:  openUDP,
	},
	{
		names: []string{"udp-listen", "udp-l", "udp-recvfrom"},
		form:  "udp-listen:[ADDR:]PORT",
		keys:  []string{"ipv4", "ipv6"},
		open:  openUDPListen,
	},
	{
		names: []string{"unix", "unix-connect", "unix-client"},
		form:  "unix:PATH (or unix:@NAME, an abstract socket on Linux)",
		keys:  []string{"timeout"},
		open:  openUnix,
	},
	{
		names: []string{"unix-listen", "unix-l"},
		form:  "unix-listen:PATH (or unix-listen:@NAME)",
		keys:  []string{"mode", "unlink"},
		open:  openUnixListen,
	},
	{
		names: []string{"tls-listen", "ssl-listen", "openssl-listen", "tls-l"},
		form:  "tls-listen:[ADDR:]PORT",
		keys:  append([]string{"keepalive", "ipv4", "ipv6"}, tlsServerKeys...),
		multi: []string{"client-pin"},
		open:  openTLSListen,
	},
	{
		names: []string{"proxy"},
		bare:  true,
		form:  "proxy (SOCKS4, SOCKS4a, SOCKS5 and HTTP CONNECT), as in proxy,auth=user:pass",
		keys:  proxyServerKeys,
		multi: proxyServerMulti,
		open:  openProxyServer(nil),
	},
	{
		names: []string{"socks5"},
		bare:  true,
		form:  "socks5 (SOCKS5 only), as in socks5,auth=user:pass",
		keys:  proxyServerKeys,
		multi: proxyServerMulti,
		open:  openProxyServer([]proxy.Kind{proxy.SOCKS5}),
	},
	{
		names: []string{"http-proxy"},
		bare:  true,
		form:  "http-proxy (HTTP CONNECT only), as in http-proxy,auth=user:pass",
		keys:  proxyServerKeys,
		multi: proxyServerMulti,
		open:  openProxyServer([]proxy.Kind{proxy.HTTP}),
	},
	{
		names: []string{"stdio", "-"},
		form:  "- (or stdio)",
		keys:  []string{"crlf", "recv-only", "send-only"},
		open:  openStdio,
	},
	{
		// Read by parseCommandEndpoint: commas may be quoted.
		names: []string{"exec", "system"},
		form:  "exec:COMMAND (run by /bin/sh -c; quote a comma that belongs to it)",
		keys:  []string{"stderr", "pty", "env", "dir"},
		multi: []string{"env"},
		open:  openExec,
	},
	{
		names: []string{"echo"},
		form:  "echo:",
		open:  openEcho,
	},
}

// socatOnly maps socat's endpoint kinds that gnc writes another way to the
// gnc form, so that they are answered with it rather than taken for host
// names.
var socatOnly = map[string]string{
	"socks":         `dial through a proxy with an option: "tcp:HOST:PORT,proxy=socks4a://PROXY:1080"`,
	"socks4":        `dial through a proxy with an option: "tcp:HOST:PORT,proxy=socks4://PROXY:1080"`,
	"socks4a":       `dial through a proxy with an option: "tcp:HOST:PORT,proxy=socks4a://PROXY:1080"`,
	"proxy-connect": `dial through a proxy with an option: "tcp:HOST:PORT,proxy=http://PROXY:3128"`,
	"system":        `exec: runs its command with /bin/sh -c: "exec:COMMAND"`,
	"open":          `gnc relays sockets and stdio; for a file, use "-" with a redirection`,
	"file":          `gnc relays sockets and stdio; for a file, use "-" with a redirection`,
}

const endpointHint = `endpoints look like HOST:PORT, tls:HOST:PORT, listen:[ADDR:]PORT, tls-listen:[ADDR:]PORT, udp:HOST:PORT, udp-listen:[ADDR:]PORT, unix:PATH, unix-listen:PATH, proxy, exec:COMMAND, echo: or - (stdio), with options after commas: "listen:8080,ipv4"`

// ParseEndpoint reads a relay endpoint: "-" or "stdio" for standard I/O,
// "HOST:PORT" or "tcp:HOST:PORT" to connect (through proxies with
// ",proxy=URL"), "listen:[ADDR:]PORT" to listen, "proxy" (or "socks5",
// "http-proxy") to serve a proxy's clients, each optionally followed by
// socat-style options (",key=value" or ",flag"). Listening endpoints bind
// at once. Error messages quote s without its credentials.
func ParseEndpoint(ctx context.Context, s string, d Defaults) (relay.Endpoint, error) {
	if e, ok, err := parseCommandEndpoint(ctx, s, d); ok {
		return e, err
	}
	body, rawOpts, _ := strings.Cut(s, ",")
	shown := redactEndpoint(s)
	if body == "" {
		return nil, &ParseError{What: "endpoint", Value: shown, Reason: "empty endpoint", Hint: endpointHint}
	}
	sc, addr := findScheme(body)
	if sc == nil {
		name, _, _ := strings.Cut(body, ":")
		if hint, ok := socatOnly[strings.ToLower(name)]; ok {
			return nil, &ParseError{What: "endpoint", Value: shown, Reason: fmt.Sprintf("%s is socat's endpoint, not gnc's", name), Hint: hint}
		}
		sc, addr = schemes[0], body
	}
	o, err := parseOptions(rawOpts, sc)
	var e relay.Endpoint
	if err == nil {
		e, err = sc.open(ctx, addr, o, d)
	}
	var ppe *proxy.ParseError
	if errors.As(err, &ppe) {
		// A proxy option's mistake, already without its credentials.
		err = &ParseError{What: "endpoint", Reason: ppe.Error()}
	}
	if pe, ok := err.(*ParseError); ok {
		// Whatever part was wrong, name the whole endpoint and its form.
		reason := pe.Reason
		if pe.What != "endpoint" {
			reason = pe.Error()
		}
		hint := "valid form: " + sc.form + optionsHint(sc)
		if ppe != nil && ppe.Hint != "" {
			hint = ppe.Hint
		}
		return nil, &ParseError{What: "endpoint", Value: shown, Reason: reason, Hint: hint}
	}
	return e, err
}

// syntaxf describes a mistake inside an endpoint; ParseEndpoint adds the
// endpoint and its valid form.
func syntaxf(format string, args ...any) error {
	return &ParseError{What: "endpoint", Reason: fmt.Sprintf(format, args...)}
}

func findScheme(body string) (*scheme, string) {
	name, rest, hasColon := strings.Cut(body, ":")
	for _, sc := range schemes {
		for _, n := range sc.names {
			if n == "-" || n == "stdio" {
				if body == n || strings.EqualFold(body, n) {
					return sc, ""
				}
				continue
			}
			if hasColon && strings.EqualFold(name, n) {
				return sc, rest
			}
			if sc.bare && strings.EqualFold(body, n) {
				return sc, ""
			}
		}
	}
	return nil, ""
}

func optionsHint(sc *scheme) string {
	if len(sc.keys) == 0 {
		return ""
	}
	return "; options: " + strings.Join(sc.keys, ", ")
}

// options are an endpoint's ",key=value" settings; a key listed in its
// scheme's multi may hold several values, any other holds one.
type options map[string][]string

func parseOptions(raw string, sc *scheme) (options, error) {
	o := options{}
	if raw == "" {
		return o, nil
	}
	afterSecret := ""
	for _, kv := range strings.Split(raw, ",") {
		k, v, _ := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !slices.Contains(sc.keys, k) {
			if afterSecret != "" {
				// Perhaps the rest of a secret with a comma in it: not
				// quoted.
				return nil, syntaxf("unknown option after %s= (commas separate options, so a value cannot hold one here)", afterSecret)
			}
			if k == "" {
				return nil, syntaxf("empty option")
			}
			return nil, syntaxf("unknown option %q", k)
		}
		afterSecret = ""
		if secretKeys[k] {
			afterSecret = k
		}
		if _, dup := o[k]; dup && !slices.Contains(sc.multi, k) {
			return nil, syntaxf("option %q given twice", k)
		}
		o[k] = append(o[k], v)
	}
	return o, nil
}

// get returns the value of a single-valued key.
func (o options) get(key string) (string, bool) {
	v, ok := o[key]
	if !ok {
		return "", false
	}
	return v[0], true
}

func (o options) duration(key string, def time.Duration) (time.Duration, error) {
	v, ok := o.get(key)
	if !ok {
		return def, nil
	}
	return ParseDuration(v)
}

func (o options) flag(key string) (bool, error) {
	v, ok := o.get(key)
	switch {
	case !ok:
		return false, nil
	case v == "" || strings.EqualFold(v, "true") || v == "1":
		return true, nil
	case strings.EqualFold(v, "false") || v == "0":
		return false, nil
	}
	return false, syntaxf("option %q takes no value or true/false, not %q", key, v)
}

// tls reads the TLS options of an endpoint: a client's when server is
// false, a server's otherwise.
func (o options) tls(server bool, d Defaults) (*TLSOptions, error) {
	t := &TLSOptions{Endpoint: true, KeyLog: d.KeyLog, HandshakeTimeout: d.Timeout}
	var err error
	t.ServerName, _ = o.get("servername")
	t.CAFile, _ = o.get("ca")
	t.CertFile, _ = o.get("cert")
	t.KeyFile, _ = o.get("key")
	t.ClientCAFile, _ = o.get("client-ca")
	if t.Insecure, err = o.flag("insecure"); err != nil {
		return nil, err
	}
	for _, key := range []string{"pin", "client-pin"} {
		for _, v := range o[key] {
			p, err := ParsePin(v)
			if err != nil {
				return nil, err
			}
			if key == "pin" {
				t.Pins = append(t.Pins, p)
			} else {
				t.ClientPins = append(t.ClientPins, p)
			}
		}
	}
	if v, ok := o.get("alpn"); ok {
		// Commas separate options, so protocols are separated by
		// colons or semicolons here: "alpn=h2:http/1.1".
		if t.ALPN, err = ParseALPN(strings.NewReplacer(";", ",", ":", ",").Replace(v)); err != nil {
			return nil, err
		}
	}
	if v, ok := o.get("tls-min"); ok {
		if t.MinVersion, err = ParseTLSVersion(v); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (o options) tcp(d TCPOptions) (TCPOptions, error) {
	v4, err := o.flag("ipv4")
	if err != nil {
		return d, err
	}
	v6, err := o.flag("ipv6")
	if err != nil {
		return d, err
	}
	switch {
	case v4 && v6:
		return d, syntaxf("ipv4 and ipv6 exclude each other")
	case v4:
		d.Network = "tcp4"
	case v6:
		d.Network = "tcp6"
	}
	if d.KeepAlive, err = o.duration("keepalive", d.KeepAlive); err != nil {
		return d, err
	}
	return d, nil
}

// dialTarget reads the HOST:PORT and the socket options of an endpoint
// that dials.
func dialTarget(addr string, o options, d Defaults) (host, port string, to TCPOptions, err error) {
	if host, port, err = SplitHostPort(addr); err != nil {
		return "", "", to, err
	}
	if host == "" || port == "" {
		return "", "", to, syntaxf("need both a host and a port")
	}
	to, err = o.tcp(d.TCP)
	return host, port, to, err
}

// bindOption reads bind=[ADDR][:PORT], the source of a dialing endpoint;
// an empty addr and zero port when not given.
func bindOption(o options, proto string) (addr string, port int, err error) {
	b, ok := o.get("bind")
	if !ok {
		return "", 0, nil
	}
	h, p, err := SplitHostPort(b)
	if err != nil {
		return "", 0, err
	}
	if p != "" {
		if port, err = ParsePort(p, proto, true); err != nil {
			return "", 0, err
		}
	}
	return h, port, nil
}

func openTCP(ctx context.Context, addr string, o options, d Defaults) (relay.Endpoint, error) {
	host, port, to, err := dialTarget(addr, o, d)
	if err != nil {
		return nil, err
	}
	td, err := NewTCPDialer(host, port, to)
	if err != nil {
		return nil, err
	}
	if td.Timeout, err = o.duration("timeout", d.Timeout); err != nil {
		return nil, err
	}
	if td.Source, td.SourcePort, err = bindOption(o, "tcp"); err != nil {
		return nil, err
	}
	useTLS, err := o.flag("tls")
	if err != nil {
		return nil, err
	}
	if vs, ok := o["proxy"]; ok {
		chain, err := ProxyChain(vs, "", host, useTLS, d.getenv())
		if err != nil {
			return nil, err
		}
		if err := td.SetProxies(chain); err != nil {
			return nil, err
		}
		td.OnHop = d.OnHop
	}
	if !useTLS {
		return td, nil
	}
	return tlsDialer(td, o, d)
}

func openTLS(ctx context.Context, addr string, o options, d Defaults) (relay.Endpoint, error) {
	o["tls"] = []string{""}
	return openTCP(ctx, addr, o, d)
}

func tlsDialer(td *TCPDialer, o options, d Defaults) (relay.Endpoint, error) {
	t, err := o.tls(false, d)
	if err != nil {
		return nil, err
	}
	return NewTLSDialer(td, t)
}

func openListen(ctx context.Context, addr string, o options, d Defaults) (relay.Endpoint, error) {
	host, port, err := SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if port == "" {
		// "listen:8080": a lone number is the port.
		host, port = "", host
	}
	if port == "" {
		return nil, syntaxf("need a port")
	}
	to, err := o.tcp(d.TCP)
	if err != nil {
		return nil, err
	}
	useTLS, err := o.flag("tls")
	if err != nil {
		return nil, err
	}
	var srv *TLSServer
	if useTLS {
		// Checked before binding, so a mistake binds nothing.
		t, err := o.tls(true, d)
		if err != nil {
			return nil, err
		}
		if srv, err = NewTLSServer(host, t); err != nil {
			return nil, err
		}
	}
	l, err := ListenTCP(ctx, host, port, to)
	if err != nil || srv == nil {
		return l, err
	}
	return srv.Listener(l), nil
}

func openTLSListen(ctx context.Context, addr string, o options, d Defaults) (relay.Endpoint, error) {
	if o == nil {
		o = options{}
	}
	o["tls"] = []string{""}
	return openListen(ctx, addr, o, d)
}

// IsStdio reports whether e is standard I/O, which a relay treats as a
// session rather than a service.
func IsStdio(e relay.Endpoint) bool {
	_, ok := e.(*Stdio)
	return ok
}

func openStdio(_ context.Context, _ string, o options, d Defaults) (relay.Endpoint, error) {
	var so StdioOptions
	var err error
	for key, dst := range map[string]*bool{"crlf": &so.CRLF, "recv-only": &so.RecvOnly, "send-only": &so.SendOnly} {
		if *dst, err = o.flag(key); err != nil {
			return nil, err
		}
	}
	so.Shared = d.Shared
	so.Terminal = d.Terminal
	return NewStdio(so)
}
