package conn_test

import (
	"bytes"
	"context"
	"errors"
	"gnc/internal/testnet"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"gnc/conn"
	"gnc/internal/testca"
	"gnc/proxy"
	"gnc/relay"
)

// echoTarget serves each connection on 127.0.0.1 by echoing it and
// half-closing after end of file.
func echoTarget(t *testing.T) string {
	t.Helper()
	addr := testnet.ServeEach(t, func(c *net.TCPConn) {
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.Copy(c, c)
		c.CloseWrite()
	})
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// proxyRelay runs a relay from a loopback listener to the proxy endpoint
// spec, in this process, and returns the listener's address and the
// relay's events.
func proxyRelay(t *testing.T, spec string, d conn.Defaults) (string, <-chan relay.Event) {
	t.Helper()
	l, err := conn.ListenTCP(context.Background(), "127.0.0.1", "0", conn.TCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := conn.ParseEndpoint(context.Background(), spec, d)
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	events := make(chan relay.Event, 64)
	s := &relay.Server{From: l, To: ps, Notify: func(e relay.Event) {
		select {
		case events <- e:
		default:
		}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return l.Addr().String(), events
}

// through dials port on host through chain.
func through(t *testing.T, host, port string, chain ...proxy.Hop) (io.ReadWriteCloser, error) {
	t.Helper()
	d, err := conn.NewTCPDialer(host, port, conn.TCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetProxies(chain); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return d.Open(ctx)
}

// echoes sends a line and a half-close over c and checks the echo.
func echoes(t *testing.T, c io.ReadWriteCloser) {
	t.Helper()
	defer c.Close()
	msg := []byte("through the proxy\n")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo %q, %v", got, err)
	}
}

func hop(t *testing.T, url string) proxy.Hop {
	t.Helper()
	h, err := proxy.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestProxyServerAndClient: the proxy endpoint serves every protocol the
// dialer speaks, with and without authentication; the conns are tunnel
// sockets that still say they are gnc's own, and the server's -vv
// description never holds the password.
func TestProxyServerAndClient(t *testing.T) {
	target := echoTarget(t)
	open, _ := proxyRelay(t, "proxy", conn.Defaults{})
	auth, events := proxyRelay(t, "proxy,auth=alice:s3cret,auth=bob:other", conn.Defaults{})
	for _, c := range []struct {
		url, host string
	}{
		{"socks5://" + open, "127.0.0.1"},
		{"socks5h://" + open, "localhost"},
		{"socks4://" + open, "127.0.0.1"},
		{"socks4a://" + open, "localhost"},
		{"http://" + open, "localhost"},
		{"socks5h://alice:s3cret@" + auth, "localhost"},
		{"http://bob:other@" + auth, "127.0.0.1"},
	} {
		t.Run(c.url, func(t *testing.T) {
			rc, err := through(t, c.host, target, hop(t, c.url))
			if err != nil {
				t.Fatal(err)
			}
			tc, ok := rc.(*conn.TunnelConn)
			if !ok || !tc.OwnSocket() {
				t.Fatalf("Open = %T, want an own *conn.TunnelConn", rc)
			}
			if want := net.JoinHostPort(c.host, target) + " via proxy"; tc.Destination() != want {
				t.Errorf("Destination %q, want %q", tc.Destination(), want)
			}
			echoes(t, rc)
		})
	}
	connected := 0
	for len(events) > 0 {
		if e := <-events; e.Kind == relay.Connected {
			connected++
			hs := e.Conn.(interface{ Handshake() string }).Handshake()
			if !strings.Contains(hs, "connect to") || strings.Contains(hs, "s3cret") || strings.Contains(hs, "alice") {
				t.Errorf("handshake line %q", hs)
			}
		}
	}
	if connected == 0 {
		t.Error("no Connected event from the authenticating proxy")
	}
	for _, c := range []struct{ url, want string }{
		{"socks5h://" + auth, "the proxy requires authentication"},
		{"socks5h://alice:wrong@" + auth, "authentication refused"},
		{"http://" + auth, "407 Proxy Authentication Required"},
		{"socks4a://alice@" + auth, "request rejected or failed"},
	} {
		_, err := through(t, "localhost", target, hop(t, c.url))
		var pe *proxy.Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ...%s", c.url, err, c.want)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("the password is in %q", err)
		}
	}
}

// TestProxyServerRules: to-deny refuses by address, also when a name
// resolves to a denied address, and the refusal is in the client's words.
func TestProxyServerRules(t *testing.T) {
	target := echoTarget(t)
	addr, _ := proxyRelay(t, "proxy,to-deny=127.0.0.0/8", conn.Defaults{})
	for _, c := range []struct{ url, host, want string }{
		{"socks5://" + addr, "127.0.0.1", "connection not allowed by ruleset"},
		{"socks5h://" + addr, "localhost", "connection not allowed by ruleset"},
		{"http://" + addr, "localhost", "403 Forbidden"},
		{"socks4a://" + addr, "localhost", "request rejected or failed"},
	} {
		_, err := through(t, c.host, target, hop(t, c.url))
		if !errors.Is(err, proxy.ErrRejected) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s to %s: %v, want ...%s", c.url, c.host, err, c.want)
		}
	}
	only, _ := proxyRelay(t, "socks5,to-allow=127.0.0.1", conn.Defaults{})
	rc, err := through(t, "127.0.0.1", target, hop(t, "socks5://"+only))
	if err != nil {
		t.Fatal(err)
	}
	echoes(t, rc)
	if _, err := through(t, "127.0.0.1", target, hop(t, "http://"+only)); err == nil || !strings.Contains(err.Error(), "not a SOCKS") && !strings.Contains(err.Error(), "HTTP") {
		t.Errorf("HTTP to a socks5-only server: %v", err)
	}
}

// TestProxyChainOfThree: a socks5 (with auth), a socks4a and an http
// proxy in a row, each asked for the next; OnHop sees each in order.
func TestProxyChainOfThree(t *testing.T) {
	target := echoTarget(t)
	a, _ := proxyRelay(t, "socks5,auth=u:p", conn.Defaults{})
	b, _ := proxyRelay(t, "proxy", conn.Defaults{})
	c, _ := proxyRelay(t, "http-proxy", conn.Defaults{})
	chain := []proxy.Hop{hop(t, "socks5://u:p@"+a), hop(t, "socks4a://"+b), hop(t, "http://"+c)}
	d, _ := conn.NewTCPDialer("localhost", target, conn.TCPOptions{})
	if err := d.SetProxies(chain); err != nil {
		t.Fatal(err)
	}
	var asked []string
	d.OnHop = func(h proxy.Hop, next string, _ time.Duration) { asked = append(asked, h.Addr+">"+next) }
	rc, err := d.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	echoes(t, rc)
	want := []string{a + ">" + b, b + ">" + c, c + ">localhost:" + target}
	if strings.Join(asked, " ") != strings.Join(want, " ") {
		t.Errorf("hops %q, want %q", asked, want)
	}
}

// fakeHTTPProxy answers one CONNECT with 200 and, in the same write, the
// tunnel's first bytes, then echoes.
func fakeHTTPProxy(t *testing.T, early string) string {
	t.Helper()
	l, port := listenTCP(t)
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		head := ""
		for !strings.Contains(head, "\r\n\r\n") {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			head += string(buf[:n])
		}
		c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n" + early))
		io.Copy(c, c)
	}()
	return "127.0.0.1:" + port
}

// TestProxyHTTPEarlyBytes: bytes an HTTP proxy sends with its 200 come
// first, through TakePrefix, and only once.
func TestProxyHTTPEarlyBytes(t *testing.T) {
	p := fakeHTTPProxy(t, "early bytes")
	rc, err := through(t, "192.0.2.1", "80", hop(t, "http://"+p))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	pf := rc.(relay.Prefixed)
	if got := string(pf.TakePrefix()); got != "early bytes" {
		t.Fatalf("prefix %q", got)
	}
	if got := pf.TakePrefix(); got != nil {
		t.Fatalf("second TakePrefix %q", got)
	}
	// Dial, which cannot hand them over, refuses rather than lose them.
	d, _ := conn.NewTCPDialer("192.0.2.1", "80", conn.TCPOptions{})
	d.SetProxies([]proxy.Hop{hop(t, "http://"+fakeHTTPProxy(t, "x"))})
	if _, err := d.Dial(context.Background()); err == nil || !strings.Contains(err.Error(), "sent data with its reply") {
		t.Fatalf("Dial: %v", err)
	}
}

// TestProxyTLSVerifiesTarget: TLS through a proxy checks the target's
// name: the certificate names localhost only, the proxy is 127.0.0.1.
func TestProxyTLSVerifiesTarget(t *testing.T) {
	ca := testca.New(t, "gnc proxy test CA")
	leaf := ca.Issue("target", []string{"localhost"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	srv := startTLSServer(t, &conn.TLSOptions{CertFile: leaf.CertFile, KeyFile: leaf.KeyFile}, nil, echoTLS)
	addr, _ := proxyRelay(t, "proxy", conn.Defaults{})
	for _, host := range []string{"localhost", "127.0.0.1"} {
		d, _ := conn.NewTCPDialer(host, srv.port, conn.TCPOptions{})
		d.SetProxies([]proxy.Hop{hop(t, "socks5h://"+addr)})
		td, err := conn.NewTLSDialer(d, &conn.TLSOptions{CAFile: ca.File})
		if err != nil {
			t.Fatal(err)
		}
		rc, err := td.Open(context.Background())
		if host == "127.0.0.1" {
			if err == nil || !strings.Contains(err.Error(), "name mismatch") {
				t.Errorf("%s: %v, want a name mismatch", host, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if got := rc.(*conn.TLSConn).Destination(); got != "localhost:"+srv.port+" via proxy" {
			t.Errorf("Destination %q", got)
		}
		echoes(t, rc)
	}
}

// TestSetProxiesChecks: -n forbids names anywhere, SOCKS4 takes no IPv6.
func TestSetProxiesChecks(t *testing.T) {
	for _, c := range []struct {
		host  string
		nodns bool
		chain string
		want  string
	}{
		{"example.com", true, "socks5://127.0.0.1:1080", "-n forbids"},
		{"example.com", true, "socks5h://127.0.0.1:1080", "-n forbids"},
		{"192.0.2.1", true, "socks5://proxy.example:1080", "-n forbids"},
		{"::1", false, "socks4://127.0.0.1:1080", "SOCKS4 carries only IPv4"},
	} {
		d := &conn.TCPDialer{Host: c.host, Port: 80, TCPOptions: conn.TCPOptions{NoDNS: c.nodns}}
		err := d.SetProxies([]proxy.Hop{hop(t, c.chain)})
		var pe *conn.ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s via %s: %v, want a usage error with %q", c.host, c.chain, err, c.want)
		}
	}
	d := &conn.TCPDialer{Host: "192.0.2.1", Port: 80, TCPOptions: conn.TCPOptions{NoDNS: true}}
	if err := d.SetProxies([]proxy.Hop{hop(t, "socks5h://127.0.0.1:1080")}); err != nil {
		t.Errorf("numbers only: %v", err)
	}
}

// TestCheckProxyServer: a proxy without auth on a non-loopback listener
// without --allow is refused; loopback, --allow or auth= make it fine,
// and a proxy endpoint must face a listener.
func TestCheckProxyServer(t *testing.T) {
	ctx := context.Background()
	ep := func(s string) relay.Endpoint {
		t.Helper()
		e, err := conn.ParseEndpoint(ctx, s, conn.Defaults{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	allow, _ := conn.NewACL([]string{"10.0.0.0/8"}, nil, nil, nil)
	deny, _ := conn.NewACL(nil, []string{"10.0.0.0/8"}, nil, nil)
	any, loop := ep("listen:0.0.0.0:0"), ep("listen:127.0.0.1:0")
	for _, c := range []struct {
		from, to relay.Endpoint
		acl      *conn.ACL
		want     string
	}{
		{any, ep("proxy"), nil, "open proxy"},
		{any, ep("socks5"), deny, "open proxy"},
		{ep("http-proxy"), any, nil, "open proxy"},
		{any, ep("proxy"), allow, ""},
		{any, ep("proxy,auth=u:p"), nil, ""},
		{loop, ep("proxy"), nil, ""},
		{ep("127.0.0.1:9"), ep("proxy"), nil, "serves the clients of a listener"},
		{any, ep("127.0.0.1:9"), nil, ""},
	} {
		err := conn.CheckProxyServer(c.from, c.to, c.acl)
		var pe *conn.ParseError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s -> %s: %v", c.from, c.to, err)
		case c.want != "" && (!errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) || pe.Hint == ""):
			t.Errorf("%s -> %s: %v, want a usage error with %q and a hint", c.from, c.to, err, c.want)
		}
	}
	if _, err := ep("proxy").Open(ctx); err == nil || !strings.Contains(err.Error(), "listen:1080 proxy") {
		t.Errorf("Open: %v", err)
	}
}

// TestProxyChainEnv: env takes ALL_PROXY, then HTTPS_PROXY for TLS, and
// NO_PROXY exempts hosts.
func TestProxyChainEnv(t *testing.T) {
	env := map[string]string{"ALL_PROXY": "socks5h://127.0.0.1:1080", "HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "internal.example,10.0.0.0/8"}
	get := func(k string) string { return env[k] }
	for _, c := range []struct {
		values []string
		host   string
		tls    bool
		want   string
	}{
		{[]string{"env"}, "example.com", false, "socks5h://127.0.0.1:1080"},
		{[]string{"ENV"}, "db.internal.example", false, ""},
		{[]string{"env"}, "10.1.2.3", true, ""},
		{[]string{"127.0.0.1:9050", "env"}, "example.com", false, "socks5://127.0.0.1:9050 socks5h://127.0.0.1:1080"},
	} {
		chain, err := conn.ProxyChain(c.values, "", c.host, c.tls, get)
		var got []string
		for _, h := range chain {
			got = append(got, h.String())
		}
		if err != nil || strings.Join(got, " ") != c.want {
			t.Errorf("%q for %s: %q, %v; want %q", c.values, c.host, got, err, c.want)
		}
	}
	delete(env, "ALL_PROXY")
	if chain, _ := conn.ProxyChain([]string{"env"}, "", "example.com", true, get); len(chain) != 1 || chain[0].Kind != proxy.HTTP {
		t.Errorf("HTTPS_PROXY for TLS: %v", chain)
	}
	env["ALL_PROXY"] = "socks5://user:hunter2@bad:port"
	_, err := conn.ProxyChain([]string{"env"}, "", "example.com", false, get)
	var pe *proxy.ParseError
	if !errors.As(err, &pe) || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "ALL_PROXY") {
		t.Errorf("a bad ALL_PROXY: %v", err)
	}
}

// TestProxyServerPipelined: bytes a client sends right after its CONNECT
// head reach the destination first, through the relay's own path.
func TestProxyServerPipelined(t *testing.T) {
	target := echoTarget(t)
	addr, _ := proxyRelay(t, "http-proxy", conn.Defaults{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("CONNECT 127.0.0.1:" + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\npipelined "))
	c.Write([]byte("and later"))
	c.(*net.TCPConn).CloseWrite()
	got, _ := io.ReadAll(c)
	const head = "HTTP/1.1 200 Connection established\r\n\r\n"
	if string(got) != head+"pipelined and later" {
		t.Fatalf("got %q", got)
	}
}
