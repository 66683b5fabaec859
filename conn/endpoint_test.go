package conn_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"gnc/conn"
	"gnc/relay"
)

// Stdio endpoints change fds 0 and 1 (non-blocking mode) until closed, so
// every test closes what it gets at once.

func closeEndpoint(t *testing.T, e relay.Endpoint) {
	t.Helper()
	if e != nil {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

func TestParseEndpointStdio(t *testing.T) {
	for _, in := range []string{
		"-", "stdio", "STDIO", "Stdio",
		"stdio,crlf", "-,recv-only", "-,send-only", "-,crlf,recv-only",
		"-,crlf=true", "-,crlf=1", "-,crlf=false", "-,crlf=0", "-,CRLF", "stdio, crlf",
	} {
		t.Run(in, func(t *testing.T) {
			e, err := conn.ParseEndpoint(context.Background(), in, conn.Defaults{})
			if err != nil {
				t.Fatalf("ParseEndpoint(%q): %v", in, err)
			}
			_, ok := e.(*conn.Stdio)
			s := e.String()
			closeEndpoint(t, e)
			if !ok {
				t.Fatalf("ParseEndpoint(%q) = %T, want *conn.Stdio", in, e)
			}
			if s != "stdio" {
				t.Errorf("String() = %q, want %q", s, "stdio")
			}
		})
	}
}

func TestParseEndpointDial(t *testing.T) {
	tests := []struct {
		in         string
		d          conn.Defaults
		host       string
		port       int
		source     string
		sourcePort int
		timeout    time.Duration
		network    string
		keepAlive  time.Duration
		str        string // String(), when checked
		service    string
	}{
		{in: "host:80", host: "host", port: 80, str: "host:80"},
		{in: "tcp:host:80", host: "host", port: 80},
		{in: "TCP:host:80", host: "host", port: 80},
		{in: "Tcp:host:80", host: "host", port: 80},
		{in: "tcp:host:http", host: "host", port: 80, service: "http"},
		{in: "example.com:443", host: "example.com", port: 443},
		{in: "192.0.2.1:22", host: "192.0.2.1", port: 22},
		{in: "[::1]:80", host: "::1", port: 80, str: "[::1]:80"},
		{in: "tcp:[::1]:80", host: "::1", port: 80},
		{in: "tcp:[::1]:80,timeout=2s,bind=127.0.0.1", host: "::1", port: 80, timeout: 2 * time.Second, source: "127.0.0.1"},
		{in: "host:80,bind=127.0.0.1:4000", host: "host", port: 80, source: "127.0.0.1", sourcePort: 4000},
		{in: "host:80,bind=[::1]:0", host: "host", port: 80, source: "::1"},
		{in: "host:80,bind=:4000", host: "host", port: 80, sourcePort: 4000},
		{in: "host:80,timeout=3", host: "host", port: 80, timeout: 3 * time.Second},
		{in: "host:80,TIMEOUT=500ms", host: "host", port: 80, timeout: 500 * time.Millisecond},
		{in: "host:80, timeout=1s", host: "host", port: 80, timeout: time.Second},
		{in: "host:80,ipv4", host: "host", port: 80, network: "tcp4"},
		{in: "host:80,ipv6", host: "host", port: 80, network: "tcp6"},
		{in: "host:80,ipv6=true", host: "host", port: 80, network: "tcp6"},
		{in: "host:80,ipv4=false", host: "host", port: 80},
		{in: "host:80,ipv4=0,ipv6=1", host: "host", port: 80, network: "tcp6"},
		{in: "host:80,keepalive=30s", host: "host", port: 80, keepAlive: 30 * time.Second},
		// Defaults apply, and the endpoint's own options override them.
		{in: "host:80", d: conn.Defaults{Timeout: 7 * time.Second, TCP: conn.TCPOptions{Network: "tcp4", KeepAlive: time.Minute}},
			host: "host", port: 80, timeout: 7 * time.Second, network: "tcp4", keepAlive: time.Minute},
		{in: "host:80,timeout=1s,ipv6,keepalive=0", d: conn.Defaults{Timeout: 7 * time.Second, TCP: conn.TCPOptions{Network: "tcp4", KeepAlive: time.Minute}},
			host: "host", port: 80, timeout: time.Second, network: "tcp6"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if tt.service != "" {
				needService(t, tt.service, tt.port)
			}
			e, err := conn.ParseEndpoint(context.Background(), tt.in, tt.d)
			if err != nil {
				t.Fatalf("ParseEndpoint(%q): %v", tt.in, err)
			}
			defer closeEndpoint(t, e)
			d, ok := e.(*conn.TCPDialer)
			if !ok {
				t.Fatalf("ParseEndpoint(%q) = %T, want *conn.TCPDialer", tt.in, e)
			}
			if d.Host != tt.host || d.Port != tt.port {
				t.Errorf("Host, Port = %q, %d; want %q, %d", d.Host, d.Port, tt.host, tt.port)
			}
			if d.Source != tt.source || d.SourcePort != tt.sourcePort {
				t.Errorf("Source, SourcePort = %q, %d; want %q, %d", d.Source, d.SourcePort, tt.source, tt.sourcePort)
			}
			if d.Timeout != tt.timeout {
				t.Errorf("Timeout = %v, want %v", d.Timeout, tt.timeout)
			}
			if d.Network != tt.network {
				t.Errorf("Network = %q, want %q", d.Network, tt.network)
			}
			if d.KeepAlive != tt.keepAlive {
				t.Errorf("KeepAlive = %v, want %v", d.KeepAlive, tt.keepAlive)
			}
			if tt.str != "" && d.String() != tt.str {
				t.Errorf("String() = %q, want %q", d.String(), tt.str)
			}
		})
	}
}

func haveIPv6Loopback() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func TestParseEndpointListen(t *testing.T) {
	tests := []struct {
		in     string
		ip     net.IP // nil: any address (the wildcard)
		str    string
		ipv6   bool
		reason string
	}{
		{in: "listen:0", str: "listen:0"},
		{in: "listen:127.0.0.1:0", ip: net.IPv4(127, 0, 0, 1), str: "listen:127.0.0.1:0"},
		{in: "LISTEN:127.0.0.1:0", ip: net.IPv4(127, 0, 0, 1)},
		{in: "tcp-listen:127.0.0.1:0", ip: net.IPv4(127, 0, 0, 1)},
		{in: "tcp-l:127.0.0.1:0", ip: net.IPv4(127, 0, 0, 1)},
		{in: "listen:127.0.0.1:0,ipv4", ip: net.IPv4(127, 0, 0, 1)},
		{in: "listen:127.0.0.1:0,keepalive=5s", ip: net.IPv4(127, 0, 0, 1)},
		{in: "listen:[::1]:0", ip: net.IPv6loopback, ipv6: true, str: "listen:[::1]:0"},
		{in: "listen:[::1]:0,ipv6", ip: net.IPv6loopback, ipv6: true},
	}
	v6 := haveIPv6Loopback()
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if tt.ipv6 && !v6 {
				t.Skip("no IPv6 loopback")
			}
			e, err := conn.ParseEndpoint(context.Background(), tt.in, conn.Defaults{})
			if err != nil {
				t.Fatalf("ParseEndpoint(%q): %v", tt.in, err)
			}
			defer closeEndpoint(t, e)
			l, ok := e.(*conn.TCPListener)
			if !ok {
				t.Fatalf("ParseEndpoint(%q) = %T, want *conn.TCPListener", tt.in, e)
			}
			a, ok := l.Addr().(*net.TCPAddr)
			if !ok {
				t.Fatalf("Addr() = %T %v, want a *net.TCPAddr", l.Addr(), l.Addr())
			}
			if a.Port == 0 {
				t.Errorf("Addr() = %v: the kernel chose no port", a)
			}
			if tt.ip == nil && !a.IP.IsUnspecified() {
				t.Errorf("Addr() = %v, want the wildcard address", a)
			}
			if tt.ip != nil && !a.IP.Equal(tt.ip) {
				t.Errorf("Addr() = %v, want IP %v", a, tt.ip)
			}
			if tt.str != "" && l.String() != tt.str {
				t.Errorf("String() = %q, want %q", l.String(), tt.str)
			}
		})
	}
}

func TestParseEndpointErrors(t *testing.T) {
	tests := []struct {
		in     string
		reason string // substring of Reason
		hint   string // substring of Hint
		value  string // Value when it is not the input (credentials hidden)
		bug    string // non-empty: known not to be a *ParseError yet
	}{
		{in: "", reason: "empty"},
		{in: ",crlf", reason: "empty"},
		{in: "tls:host:443,pin=nope", reason: "invalid pin"},
		{in: "tls:host:443,pin=SHA256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,insecure", reason: "pin= and insecure= exclude each other"},
		{in: "tls:host:443,client-ca=x", reason: `unknown option "client-ca"`},
		{in: "listen:0,tls,pin=x", reason: `unknown option "pin"`},
		{in: "tls-listen:0,tls-min=1.1", reason: "TLS 1.2 and 1.3"},
		{in: "tls:host:443,alpn=", reason: "empty"},
		{in: "host:443,tls,servername=a,servername=b", reason: "given twice"},
		{in: "exec:", reason: "need a command"},
		{in: "socks4:proxy:1080", reason: "socat's endpoint", hint: "proxy=socks4://"},
		{in: "socks5:proxy:1080", reason: "socks5 takes no address", hint: "socks5,auth=user:pass"},
		{in: "proxy:127.0.0.1:1080", reason: "proxy takes no address", hint: "proxy,auth=user:pass"},
		{in: "proxy,auth=:pass", reason: "auth= takes user:pass", value: "proxy,auth=***"},
		{in: "proxy,resolve=dns", reason: `invalid resolve "dns"`},
		{in: "proxy,to-deny=10.0.0.0/33", reason: `invalid CIDR "10.0.0.0/33"`},
		{in: "proxy,auth=a:b,auth=a:c", reason: "auth= gives a user twice", value: "proxy,auth=***,auth=***"},
		{in: "http-proxy,bind=x", reason: `unknown option "bind"`, hint: "to-allow, to-deny"},
		{in: "tcp:h:1,proxy=ftp://p:1", reason: `unknown scheme "ftp"`, hint: "socks5h://"},
		{in: "tcp:h:1,proxy=socks5://u:secret@p:x", reason: "a port is a number", hint: "socks5h://", value: "tcp:h:1,proxy=socks5://***@p:x"},
		{in: "proxy,auth=u:sec,ret", reason: "unknown option after auth=", value: "proxy,auth=***"},
		{in: "tcp:h:1,proxy=socks5://u:se,cret@p:1,bogus", reason: "unknown option after proxy=", value: "tcp:h:1,proxy=socks5://***@p:1,bogus"},
		{in: "listen:8080,bogus", reason: `unknown option "bogus"`, hint: "keepalive, ipv4, ipv6"},
		{in: "listen:8080,timeout=1s", reason: `unknown option "timeout"`, hint: "listen:[ADDR:]PORT"},
		{in: "listen:8080,ipv4=maybe,bogus", reason: "unknown option"},
		{in: "host:80,bogus", reason: `unknown option "bogus"`, hint: "bind, timeout, keepalive, ipv4, ipv6"},
		{in: "host:80,crlf", reason: `unknown option "crlf"`},
		{in: "-,bogus", reason: `unknown option "bogus"`, hint: "crlf, recv-only, send-only"},
		{in: "stdio,timeout=1s", reason: `unknown option "timeout"`},
		{in: "host:80,timeout=1s,timeout=2s", reason: "given twice"},
		{in: "host:80,timeout=1s,TIMEOUT=2s", reason: "given twice"},
		{in: "host:80,,timeout=1s", reason: "empty option"},
		{in: "host:80,=1", reason: "empty option"},
		{in: "host:80,timeout=xyz", reason: "duration"},
		{in: "host:80,timeout=", reason: "duration"},
		{in: "host:80,keepalive=forever", reason: "duration"},
		{in: "host:0", reason: "port"},
		{in: "host:99999", reason: "port"},
		{in: "host:no-such-service-gnc", reason: "port"},
		{in: "tcp:host:8o", reason: "port"},
		{in: "stdio:x", reason: "port"},
		{in: "[::1", reason: "missing ]"},
		{in: "tcp:[notv6]:80", reason: "IPv6"},
		{in: "host:", reason: "empty port"},
		{in: "a:b:c", reason: "brackets"},
		{in: "host:80,bind=[::1", reason: "missing ]"},
		{in: "host:80,bind=127.0.0.1:99999", reason: "port"},
		{in: "listen:127.0.0.1", reason: "port"}, // taken as a port: nothing is bound
		{in: "listen:[::1", reason: "missing ]"},
		{in: "listen:127.0.0.1:99999", reason: "port"},
		{in: "listen:", bug: `openListen returns fmt.Errorf("need a port")`},
		{in: "tcp:host", bug: `openTCP returns fmt.Errorf("need both a host and a port")`},
		{in: "host", bug: `openTCP returns fmt.Errorf("need both a host and a port")`},
		{in: "tcp:", bug: `openTCP returns fmt.Errorf("need both a host and a port")`},
		{in: "::1", bug: `openTCP returns fmt.Errorf("need both a host and a port")`},
		{in: "[::1]", bug: `openTCP returns fmt.Errorf("need both a host and a port")`},
		{in: "listen:0,ipv4,ipv6", bug: `options.tcp returns fmt.Errorf("ipv4 and ipv6 exclude each other")`},
		{in: "host:80,ipv4,ipv6", bug: `options.tcp returns fmt.Errorf("ipv4 and ipv6 exclude each other")`},
		{in: "host:80,ipv4=x", bug: `options.flag returns fmt.Errorf("option %q takes no value or true/false, ...")`},
		{in: "-,crlf=maybe", bug: `options.flag returns fmt.Errorf("option %q takes no value or true/false, ...")`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := conn.ParseEndpoint(context.Background(), tt.in, conn.Defaults{})
			if err == nil {
				closeEndpoint(t, e)
				t.Fatalf("ParseEndpoint(%q) = %T %v, want an error", tt.in, e, e)
			}
			if e != nil {
				t.Errorf("ParseEndpoint(%q) returned both %T and error %v", tt.in, e, err)
				closeEndpoint(t, e)
			}
			var pe *conn.ParseError
			if tt.bug != "" && !errors.As(err, &pe) {
				t.Skipf("BUG: ParseEndpoint(%q) returns %T %q, want a *conn.ParseError{What: \"endpoint\", Value: %q} with a hint (so that gnc exits 2 and names the endpoint): %s and ParseEndpoint only wraps *ParseError", tt.in, err, err, tt.in, tt.bug)
			}
			pe = parseError(t, err, "endpoint")
			want := tt.in
			if tt.value != "" {
				want = tt.value
			}
			if pe.Value != want {
				t.Errorf("Value = %q, want %q", pe.Value, want)
			}
			if !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to contain %q", pe.Reason, tt.reason)
			}
			if !strings.Contains(pe.Hint, tt.hint) {
				t.Errorf("Hint = %q, want it to contain %q", pe.Hint, tt.hint)
			}
		})
	}
}

// listensOrStdio reports whether ParseEndpoint could take s for a listening
// endpoint (which binds) or for stdio (which changes fds 0 and 1): scheme
// names match with strings.EqualFold, which also folds some non-ASCII
// letters ("ſ" is "s"), so the test repeats that match.
func listensOrStdio(s string) bool {
	if sockKind(s) {
		return true // FuzzParseEndpointSock covers them
	}
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "listen") || strings.HasPrefix(l, "tcp-l") || strings.Contains(l, "-l") {
		return true
	}
	body, _, _ := strings.Cut(s, ",")
	name, _, _ := strings.Cut(body, ":")
	for _, n := range []string{"listen", "tcp-listen", "tcp-l", "tls-listen", "ssl-listen", "openssl-listen", "tls-l", "stdio"} {
		if strings.EqualFold(name, n) || strings.EqualFold(body, n) {
			return true
		}
	}
	return body == "-"
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{
		"host:80", "tcp:host:80", "TCP:host:80", "[::1]:80", "tcp:[::1]:80,timeout=2s,bind=127.0.0.1",
		"tls:host:443", "host:80,timeout=xyz", "tcp:host", "host:80,ipv4,ipv6", "host:80,bind=[::1]:0",
		"host:80,keepalive=1m,ipv6=true", "", "a:b:c",
		"tls:host:443,servername=x,alpn=h2:http/1.1,tls-min=1.3", "host:443,tls,insecure", "tls:h:1,pin=SHA256:00",
		"tls:example.com:443,proxy=socks5h://127.0.0.1:1080", "host:80,proxy=socks5://u:p@h,proxy=http://h:3128",
		"host:80,proxy=env", "host:80,proxy=h:1080", "host:80,proxy=socks4://u:p@h", "proxy", "proxy:", "proxy:x",
		"proxy,auth=user:pass,to-deny=10.0.0.0/8", "socks5,to-allow=*.example.com,resolve=ipv4", "http-proxy,auth=a:b,auth=c:d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if listensOrStdio(s) {
			t.Skip("would bind a socket or touch stdio")
		}
		if readsFile(s) {
			t.Skip("would read a file")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // nothing may need the network
		e, err := conn.ParseEndpoint(ctx, s, conn.Defaults{})
		if err != nil {
			if e != nil {
				e.Close()
				t.Fatalf("ParseEndpoint(%q) returned both %T and %v", s, e, err)
			}
			if err.Error() == "" {
				t.Fatalf("ParseEndpoint(%q): empty error message", s)
			}
			var pe *conn.ParseError
			if errors.As(err, &pe) && (pe.What != "endpoint" || pe.Value != s && !strings.Contains(strings.ToLower(s), "proxy=") && !strings.Contains(strings.ToLower(s), "auth=") || pe.Hint == "") {
				t.Fatalf("ParseEndpoint(%q): ParseError %+v: want What endpoint, Value the input (without secrets) and a hint", s, pe)
			}
			return
		}
		defer e.Close()
		if ps, ok := e.(*conn.ProxyServer); ok {
			switch ps.String() {
			case "proxy", "socks5", "http-proxy":
			default:
				t.Fatalf("ParseEndpoint(%q): proxy server named %q", s, ps.String())
			}
			return
		}
		d, ok := e.(*conn.TCPDialer)
		if td, isTLS := e.(*conn.TLSDialer); isTLS {
			d, ok = td.TCPDialer, true
		}
		if !ok {
			t.Fatalf("ParseEndpoint(%q) = %T, want only dialers here", s, e)
		}
		if d.Host == "" || d.Port < 1 || d.Port > 65535 || d.SourcePort < 0 || d.SourcePort > 65535 {
			t.Fatalf("ParseEndpoint(%q) = %+v: bad host or port", s, d)
		}
		switch d.Network {
		case "", "tcp4", "tcp6":
		default:
			t.Fatalf("ParseEndpoint(%q): Network %q", s, d.Network)
		}
		_ = d.String()
	})
}

// FuzzEndpointSecrets: whatever a password holds, no message about an
// endpoint that carries it (its error, its name) quotes it.
func FuzzEndpointSecrets(f *testing.F) {
	for _, s := range []string{"s3cret", "pa,ss", "a,tls,b", "x@y", "p/q", "p%41q", "has space", "a=b,c", "::::", "tls:h:1"} {
		f.Add(s)
	}
	templates := []string{
		"tcp:h:1,proxy=socks5://u:%s@p:1080",
		"tcp:h:1,proxy=socks5://u:%s@p:1080,bogus",
		"tls:h:1,proxy=http://u:%s@p,timeout=xyz",
		"tcp:h:1,proxy=socks5://u:%s@p:x",
		"proxy,auth=u:%s",
		"proxy,auth=u:%s,to-deny=nope/99",
		"socks5,auth=u:%s,resolve=dns",
	}
	f.Fuzz(func(t *testing.T, input string) {
		// Marked at both ends, so that the password as a whole can be
		// told from the fixed texts around it.
		pass := "Qz7" + input + "7zQ"
		for _, tmpl := range templates {
			s := strings.Replace(tmpl, "%s", pass, 1)
			if listensOrStdio(s) || readsFile(s) {
				continue
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			e, err := conn.ParseEndpoint(ctx, s, conn.Defaults{Getenv: func(string) string { return "" }})
			if err != nil {
				if strings.Contains(err.Error(), pass) {
					t.Fatalf("ParseEndpoint(%q): the error quotes the secret: %v", s, err)
				}
				continue // hints are fixed texts, which quote nothing
			}
			if strings.Contains(e.String(), pass) {
				t.Errorf("ParseEndpoint(%q).String() = %q quotes the secret", s, e.String())
			}
			e.Close()
		}
	})
}

// readsFile reports whether s may name a file for an endpoint to read,
// which could be /dev/zero or stdin.
func readsFile(s string) bool {
	l := strings.ToLower(s)
	for _, k := range []string{"auth-file", "ca", "cert", "key"} {
		if strings.Contains(l, k) {
			return true
		}
	}
	return false
}
