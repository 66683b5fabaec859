package proxy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// echoOver dials target through chain and checks that msg comes back,
// with a half-close ending the exchange.
func echoOver(t *testing.T, chain []Hop, target string, resolve Resolver) error {
	t.Helper()
	c, prefix, err := Dial(ctx5(t), &net.Dialer{}, chain, target, resolve)
	if err != nil {
		clean(t, err)
		return err
	}
	defer c.Close()
	if len(prefix) != 0 {
		t.Fatalf("prefix %q", prefix)
	}
	if _, ok := c.(*net.TCPConn); !ok {
		t.Fatalf("Dial returned a %T, not the socket", c)
	}
	msg := "ping through " + chain[0].Kind.String()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != msg {
		t.Fatalf("echo %q, %v", got, err)
	}
	return nil
}

func TestRoundTrip(t *testing.T) {
	echo := echoServer(t)
	_, port, _ := net.SplitHostPort(echo)
	names := fakeResolver(map[string][]string{"echo.test": {"127.0.0.1"}})
	p := startProxy(t, &ServerConfig{Resolver: names})
	for _, k := range []Kind{SOCKS4, SOCKS4a, SOCKS5, SOCKS5h, HTTP} {
		for _, target := range []string{echo, "echo.test:" + port} {
			if err := echoOver(t, []Hop{{Kind: k, Addr: p.addr}}, target, names); err != nil {
				t.Errorf("%v to %s: %v", k, target, err)
			}
		}
	}
}

func TestRoundTripAuth(t *testing.T) {
	echo := echoServer(t)
	p := startProxy(t, &ServerConfig{Users: users()})
	at := func(k Kind, user, pass string) []Hop {
		h := Hop{Kind: k, Addr: p.addr}
		if user != "" || pass != "" {
			h.User, h.Pass = user, pass
		}
		return []Hop{h}
	}
	for _, k := range []Kind{SOCKS5, SOCKS5h, HTTP} {
		if err := echoOver(t, at(k, testUser, testPass), echo, nil); err != nil {
			t.Errorf("%v with credentials: %v", k, err)
		}
	}
	for _, tc := range []struct {
		chain  []Hop
		client string // the client's error, after "proxy URL: connect to TARGET: "
		server string // the server's error, after "proxy client ADDR: "
	}{
		{at(SOCKS5h, testUser, "wrong"), "authentication refused", "socks5: authentication refused"},
		{at(SOCKS5h, "", ""), "the proxy requires authentication",
			"socks5: the client offers no username/password authentication, which this server requires"},
		{at(HTTP, testUser, "wrong"), "HTTP/1.1 407 Proxy Authentication Required", "http connect to " + echo + ": authentication refused"},
		{at(HTTP, "", ""), "HTTP/1.1 407 Proxy Authentication Required", "http connect to " + echo + ": no credentials (Proxy-Authorization: Basic)"},
		{at(SOCKS4, testUser, ""), "request rejected or failed", "socks4 connect to " + echo + ": SOCKS4 has no password and this server requires authentication"},
	} {
		err := echoOver(t, tc.chain, echo, nil)
		var e *Error
		if !errors.As(err, &e) || !strings.HasSuffix(err.Error(), ": connect to "+echo+": "+tc.client) || !strings.HasPrefix(err.Error(), "proxy "+tc.chain[0].String()+": ") {
			t.Errorf("%v: client got %v, want ...%s", tc.chain[0], err, tc.client)
		}
		if tc.chain[0].Kind == HTTP && !errors.Is(err, ErrAuth) || tc.chain[0].Kind == HTTP && e.Hint == "" {
			t.Errorf("%v: %v hint %q", tc.chain[0], e.Err, e.Hint)
		}
		serr := <-p.errs
		if got := clean(t, serr); !strings.HasSuffix(got, ": "+tc.server) {
			t.Errorf("%v: server got %s, want ...%s", tc.chain[0], got, tc.server)
		}
	}
}

func TestRoundTripDenied(t *testing.T) {
	echo := echoServer(t)
	p := startProxy(t, &ServerConfig{Deny: mustRules(t, "127.0.0.0/8")})
	for k, want := range map[Kind]string{
		SOCKS5h: "connection not allowed by ruleset",
		SOCKS4a: "request rejected or failed",
		HTTP:    "HTTP/1.1 403 Forbidden",
	} {
		err := echoOver(t, []Hop{{Kind: k, Addr: p.addr}}, echo, nil)
		if err == nil || !strings.HasSuffix(err.Error(), ": "+want) {
			t.Errorf("%v: %v", k, err)
		}
		if got := (<-p.errs).Error(); !strings.HasSuffix(got, ": denied by to-deny 127.0.0.0/8") {
			t.Errorf("%v server: %s", k, got)
		}
	}
}

// TestChain16MiB goes through three of the package's own servers of
// three kinds, each asked for the next by name, and sends 16 MiB each
// way: the client's bytes, its half-close, then the target's bytes
// after that half-close.
func TestChain16MiB(t *testing.T) {
	const size = 16 << 20
	type result struct {
		sum [32]byte
		n   int64
		err error
	}
	targetGot := make(chan result, 1)
	fromTarget := make([]byte, size)
	rand.Read(fromTarget)
	wantBack := sha256.Sum256(fromTarget)
	var once sync.Once
	target := serveTCP(t, func(c *net.TCPConn) {
		h := sha256.New()
		n, err := io.Copy(h, c) // to the client's half-close
		var r result
		copy(r.sum[:], h.Sum(nil))
		r.n, r.err = n, err
		once.Do(func() { targetGot <- r })
		// Writing after the EOF shows the half-close went through
		// every hop without closing the way back.
		c.Write(fromTarget)
		c.CloseWrite()
	})
	_, tport, _ := net.SplitHostPort(target)
	// Each server resolves the next hop's name to loopback.
	var s1, s2, s3 *testProxy
	s3 = startProxy(t, &ServerConfig{Protocols: []Kind{HTTP}, Resolver: fakeResolver(map[string][]string{"target.test": {"127.0.0.1"}})})
	_, p3, _ := net.SplitHostPort(s3.addr)
	s2 = startProxy(t, &ServerConfig{Protocols: []Kind{SOCKS4a}, Resolver: fakeResolver(map[string][]string{"hop3.test": {"127.0.0.1"}})})
	_, p2, _ := net.SplitHostPort(s2.addr)
	s1 = startProxy(t, &ServerConfig{Protocols: []Kind{SOCKS5}, Users: users(), Resolver: fakeResolver(map[string][]string{"hop2.test": {"127.0.0.1"}})})
	chain := []Hop{
		{Kind: SOCKS5h, Addr: s1.addr, User: testUser, Pass: testPass},
		{Kind: SOCKS4a, Addr: "hop2.test:" + p2},
		{Kind: HTTP, Addr: "hop3.test:" + p3},
	}
	c, prefix, err := Dial(ctx5(t), &net.Dialer{}, chain, "target.test:"+tport, nil)
	if err != nil {
		t.Fatal(clean(t, err))
	}
	defer c.Close()
	if len(prefix) != 0 {
		t.Fatalf("prefix %d bytes", len(prefix))
	}
	toTarget := make([]byte, size)
	rand.Read(toTarget)
	wantThere := sha256.Sum256(toTarget)
	back := make(chan result, 1)
	go func() {
		h := sha256.New()
		n, err := io.Copy(h, c)
		var r result
		copy(r.sum[:], h.Sum(nil))
		r.n, r.err = n, err
		back <- r
	}()
	if _, err := c.Write(toTarget); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	there := <-targetGot
	if there.err != nil || there.n != size || there.sum != wantThere {
		t.Errorf("to the target: %d bytes, %v, sum match %v", there.n, there.err, there.sum == wantThere)
	}
	got := <-back
	if got.err != nil || got.n != size || got.sum != wantBack {
		t.Errorf("from the target: %d bytes, %v, sum match %v", got.n, got.err, got.sum == wantBack)
	}
	for _, s := range []*testProxy{s1, s2, s3} {
		select {
		case err := <-s.errs:
			t.Errorf("server: %v", err)
		default:
		}
	}
}

// TestDialChainErrors names the hop that failed and what it was asked.
func TestDialChainErrors(t *testing.T) {
	s2 := startProxy(t, &ServerConfig{Deny: mustRules(t, "192.0.2.0/24")})
	s1 := startProxy(t, nil)
	chain := []Hop{{Kind: SOCKS5, Addr: s1.addr}, {Kind: HTTP, Addr: s2.addr}}
	_, _, err := Dial(context.Background(), &net.Dialer{}, chain, "192.0.2.1:80", nil)
	want := "proxy http://" + s2.addr + ": connect to 192.0.2.1:80: HTTP/1.1 403 Forbidden"
	if got := clean(t, err); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
