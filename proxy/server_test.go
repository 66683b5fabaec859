package proxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cstep is one step of a client against Accept: bytes sent, then the
// bytes the server must answer (none: go straight on).
type cstep struct {
	send, want []byte
}

// accept runs Accept on one end of a loopback pair while the other plays
// steps. It returns Accept's result, the client end and the server end;
// the steps' mismatches fail the test.
func accept(t *testing.T, cfg *ServerConfig, steps ...cstep) (*Request, error, *net.TCPConn, *net.TCPConn) {
	t.Helper()
	client, server := tcpPair(t)
	done := make(chan error, 1)
	go func() {
		for _, s := range steps {
			if _, err := client.Write(s.send); err != nil {
				done <- err
				return
			}
			if len(s.want) > 0 {
				got := make([]byte, len(s.want))
				if _, err := io.ReadFull(client, got); err != nil {
					done <- errors.New("reading " + quoteBytes(s.want) + ": " + err.Error())
					return
				}
				if !bytes.Equal(got, s.want) {
					done <- errors.New("got " + quoteBytes(got) + ", want " + quoteBytes(s.want))
					return
				}
			}
		}
		done <- nil
	}()
	req, err := Accept(ctx5(t), server, cfg)
	clean(t, err)
	if err != nil {
		var re *RequestError
		if !errors.As(err, &re) {
			t.Fatalf("Accept error %T %v, want a *RequestError", err, err)
		}
		if !strings.HasPrefix(err.Error(), "proxy client 127.0.0.1:") {
			t.Errorf("error does not name the client: %s", err)
		}
		server.CloseWrite()
	} else if req.Target == "" || len(req.Addrs) == 0 {
		t.Fatalf("request without target or addresses: %+v", req)
	}
	if cerr := <-done; cerr != nil {
		t.Fatalf("client side: %v (Accept: %v)", cerr, err)
	}
	return req, err, client, server
}

// expectReply has req answer err and checks the client reads want.
func expectReply(t *testing.T, req *Request, client, server *net.TCPConn, err error, bound net.Addr, want []byte) {
	t.Helper()
	if werr := req.Reply(server, err, bound); werr != nil {
		t.Fatal(werr)
	}
	got := make([]byte, len(want))
	if _, rerr := io.ReadFull(client, got); rerr != nil || !bytes.Equal(got, want) {
		t.Fatalf("reply %s (%v), want %s", quoteBytes(got), rerr, quoteBytes(want))
	}
	if req.Reply(server, nil, nil) == nil {
		t.Error("a second Reply was sent")
	}
}

func users() map[string]string { return map[string]string{testUser: testPass, "bob": "b0b"} }

var testNames = fakeResolver(map[string][]string{
	"example.com": {"192.0.2.7", "2001:db8::7"},
	"inside.test": {"10.0.0.5"},
	"mapped.test": {"::ffff:10.0.0.1"},
	"mixed.test":  {"10.0.0.5", "192.0.2.9"},
	"x.ok.test":   {"10.9.9.9"},
	"y.ok.test":   {"198.51.100.5"},
	"other.test":  {"198.51.100.6"},
	"v6.test":     {"2001:db8::6"},
	"a.corp.test": {"198.51.100.7"},
	"corp.test":   {"198.51.100.8"},
})

func TestServerSOCKS5(t *testing.T) {
	cfg := &ServerConfig{Resolver: testNames}
	req, err, client, server := accept(t, cfg, cstep{greetNone, okMethodNone}, cstep{[]byte{5, 1, 0, 1, 127, 0, 0, 1, 0, 80}, nil})
	if err != nil || req.Proto != SOCKS5 || req.Target != "127.0.0.1:80" || req.Port != 80 || req.Addrs[0].String() != "127.0.0.1" || req.User != "" || req.Prefix != nil {
		t.Fatalf("%+v %v", req, err)
	}
	expectReply(t, req, client, server, nil, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 0x1234}, []byte{5, 0, 0, 1, 10, 0, 0, 1, 0x12, 0x34})

	req, err, client, server = accept(t, cfg, cstep{greetNone, okMethodNone}, cstep{reqName, nil})
	if err != nil || req.Proto != SOCKS5h || req.Target != "example.com:443" || len(req.Addrs) != 2 || req.Addrs[0].String() != "192.0.2.7" {
		t.Fatalf("%+v %v", req, err)
	}
	if got := req.String(); got != "socks5h connect to example.com:443 (192.0.2.7)" {
		t.Errorf("String: %q", got)
	}
	expectReply(t, req, client, server, nil, &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}, cat([]byte{5, 0, 0, 4}, net.ParseIP("2001:db8::1"), []byte{0, 1}))

	v6 := cat([]byte{5, 1, 0, 4}, net.ParseIP("2001:db8::5"), []byte{0, 22})
	req, err, client, server = accept(t, cfg, cstep{greetNone, okMethodNone}, cstep{v6, nil})
	if err != nil || req.Target != "[2001:db8::5]:22" {
		t.Fatalf("%+v %v", req, err)
	}
	expectReply(t, req, client, server, nil, nil, socks5OK)

	// Greeting, auth and request pipelined in one write: nothing lost.
	req, err, _, _ = accept(t, cfg, cstep{cat(greetNone, reqName, []byte("data")), okMethodNone})
	if err != nil || req.Target != "example.com:443" || string(req.Prefix) != "data" {
		t.Fatalf("%+v %v", req, err)
	}
}

func TestServerSOCKS5Auth(t *testing.T) {
	cfg := &ServerConfig{Users: users(), Resolver: testNames}
	req, err, _, _ := accept(t, cfg, cstep{greetUserPass, okMethodUP}, cstep{userPassMsg(testUser, testPass), []byte{1, 0}}, cstep{reqName, nil})
	if err != nil || req.User != testUser {
		t.Fatalf("accepted: %+v %v", req, err)
	}
	if got := req.String(); strings.Contains(got, testUser) {
		t.Errorf("String shows the user: %q", got)
	}
	// Without users, a client offering only user/password gets in.
	req, err, _, _ = accept(t, &ServerConfig{Resolver: testNames}, cstep{[]byte{5, 1, 2}, okMethodUP}, cstep{userPassMsg("x", "y"), []byte{1, 0}}, cstep{reqName, nil})
	if err != nil || req.User != "" {
		t.Fatalf("no users: %+v %v", req, err)
	}
	for _, tc := range []struct {
		name  string
		cfg   *ServerConfig
		steps []cstep
		text  string
		cause error
	}{
		{"wrong password", cfg, []cstep{{greetUserPass, okMethodUP}, {userPassMsg(testUser, testPass+"x"), []byte{1, 1}}},
			"socks5: authentication refused", ErrAuth},
		{"unknown user", cfg, []cstep{{greetUserPass, okMethodUP}, {userPassMsg("mallory", testPass), []byte{1, 1}}},
			"socks5: authentication refused", ErrAuth},
		{"another's password", cfg, []cstep{{greetUserPass, okMethodUP}, {userPassMsg("bob", testPass), []byte{1, 1}}},
			"socks5: authentication refused", ErrAuth},
		{"no credentials offered", cfg, []cstep{{greetNone, []byte{5, 0xff}}},
			"socks5: the client offers no username/password authentication, which this server requires", ErrAuth},
		{"bad auth version", cfg, []cstep{{greetUserPass, okMethodUP}, {[]byte{5, 1, 'a', 0}, []byte{1, 1}}},
			"socks5: not a username/password authentication request", ErrProtocol},
		{"no methods", &ServerConfig{}, []cstep{{[]byte{5, 0}, []byte{5, 0xff}}},
			"socks5: the client offers no authentication method this server knows", ErrAuth},
		{"GSSAPI only", &ServerConfig{}, []cstep{{[]byte{5, 1, 1}, []byte{5, 0xff}}},
			"socks5: the client offers no authentication method this server knows", ErrAuth},
		{"not served", &ServerConfig{Protocols: []Kind{HTTP}}, []cstep{{greetNone, []byte{5, 0xff}}},
			"socks5: SOCKS5 is not served here", ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err, _, _ := accept(t, tc.cfg, tc.steps...)
			if err == nil || !strings.HasSuffix(err.Error(), ": "+tc.text) || !errors.Is(err, tc.cause) {
				t.Errorf("got %v, want ...: %s", err, tc.text)
			}
		})
	}
}

func TestServerSOCKS5Refusals(t *testing.T) {
	cfg := &ServerConfig{Resolver: testNames}
	fail := func(code byte) []byte { return socks5Failure(code) }
	for _, tc := range []struct {
		name string
		req  []byte
		want []byte
		text string
	}{
		{"BIND", []byte{5, 2, 0, 1, 127, 0, 0, 1, 0, 80}, fail(7), "socks5 connect to 127.0.0.1:80: command not supported (BIND)"},
		{"UDP ASSOCIATE", []byte{5, 3, 0, 1, 0, 0, 0, 0, 0, 0}, fail(7), "socks5 connect to 0.0.0.0:0: command not supported (UDP ASSOCIATE)"},
		{"command 9", cat([]byte{5, 9, 0, 3, 11}, []byte("example.com"), []byte{1, 187}), fail(7), "socks5h connect to example.com:443: command not supported (9)"},
		{"address type", []byte{5, 1, 0, 9, 0, 0}, fail(8), "socks5: address type 9 not supported"},
		{"bad name", cat([]byte{5, 1, 0, 3, 3}, []byte("a\x1bb"), []byte{0, 80}), fail(1), "socks5h: malformed host name in the request"},
		{"empty name", []byte{5, 1, 0, 3, 0, 0, 80}, fail(1), "socks5h: malformed host name in the request"},
		{"bad version", []byte{4, 1, 0, 1, 127, 0, 0, 1, 0, 80}, fail(1), "socks5: not a SOCKS5 request"},
		{"unresolvable", cat([]byte{5, 1, 0, 3, 7}, []byte("nowhere"), []byte{0, 80}), fail(4), "socks5h connect to nowhere:80: cannot resolve: no such host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err, _, _ := accept(t, cfg, cstep{greetNone, okMethodNone}, cstep{tc.req, tc.want})
			var re *RequestError
			if !errors.As(err, &re) || !strings.HasSuffix(err.Error(), ": "+tc.text) || re.Code != int(tc.want[1]) {
				t.Errorf("got %v, want ...: %s", err, tc.text)
			}
		})
	}
}

func TestServerSOCKS4(t *testing.T) {
	cfg := &ServerConfig{Resolver: testNames}
	req, err, client, server := accept(t, cfg, cstep{socks4Req([4]byte{127, 0, 0, 1}, "anyone", ""), nil})
	if err != nil || req.Proto != SOCKS4 || req.Target != "127.0.0.1:443" || req.User != "" {
		t.Fatalf("%+v %v", req, err)
	}
	expectReply(t, req, client, server, nil, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 0x1234}, []byte{0, 90, 0x12, 0x34, 10, 0, 0, 1})

	req, err, client, server = accept(t, cfg, cstep{cat(socks4Req([4]byte{0, 0, 0, 9}, "", "example.com"), []byte("early")), nil})
	if err != nil || req.Proto != SOCKS4a || req.Target != "example.com:443" || req.Addrs[0].String() != "192.0.2.7" || string(req.Prefix) != "early" {
		t.Fatalf("%+v %v", req, err)
	}
	expectReply(t, req, client, server, nil, nil, []byte{0, 90, 0, 0, 0, 0, 0, 0})

	rejected := []byte{0, 91, 0, 0, 0, 0, 0, 0}
	bind := socks4Req([4]byte{127, 0, 0, 1}, "", "")
	bind[1] = 2
	for _, tc := range []struct {
		name  string
		cfg   *ServerConfig
		send  []byte
		text  string
		cause error
	}{
		{"auth required", &ServerConfig{Users: users()}, socks4Req([4]byte{127, 0, 0, 1}, testUser, ""),
			"socks4 connect to 127.0.0.1:443: SOCKS4 has no password and this server requires authentication", ErrAuth},
		{"BIND", cfg, bind, "socks4 connect to 127.0.0.1:443: command not supported (BIND)", ErrUnsupported},
		{"4a not served", &ServerConfig{Protocols: []Kind{SOCKS4}}, socks4Req([4]byte{0, 0, 0, 1}, "", "example.com"),
			"socks4a connect to example.com:443: socks4a is not served here", ErrUnsupported},
		{"4 not served", &ServerConfig{Protocols: []Kind{SOCKS5}}, socks4Req([4]byte{127, 0, 0, 1}, "", ""),
			"socks4 connect to 127.0.0.1:443: socks4 is not served here", ErrUnsupported},
		{"long user id", cfg, cat([]byte{4, 1, 0, 80, 1, 2, 3, 4}, bytes.Repeat([]byte{'u'}, 300)),
			"socks4: SOCKS4 user id or host name longer than 255 bytes", ErrProtocol},
		{"long name", cfg, cat([]byte{4, 1, 0, 80, 0, 0, 0, 1, 0}, bytes.Repeat([]byte{'n'}, 300)),
			"socks4a: SOCKS4 user id or host name longer than 255 bytes", ErrProtocol},
		{"bad name", cfg, socks4Req([4]byte{0, 0, 0, 1}, "", "a/b"), "socks4a: malformed host name in the request", ErrProtocol},
		{"unresolvable", cfg, socks4Req([4]byte{0, 0, 0, 1}, "", "nowhere"), "socks4a connect to nowhere:443: cannot resolve: no such host", &net.DNSError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err, _, _ := accept(t, tc.cfg, cstep{tc.send, rejected})
			var re *RequestError
			if !errors.As(err, &re) || !strings.HasSuffix(err.Error(), ": "+tc.text) || re.Code != 91 {
				t.Errorf("got %v, want ...: %s", err, tc.text)
			}
			if de, ok := tc.cause.(*net.DNSError); ok {
				if !errors.As(err, &de) {
					t.Errorf("cause %v", re.Err)
				}
			} else if !errors.Is(err, tc.cause) {
				t.Errorf("cause %v, want %v", re.Err, tc.cause)
			}
		})
	}
	// SOCKS4a also admits SOCKS4.
	if _, err, _, _ := accept(t, &ServerConfig{Protocols: []Kind{SOCKS4a}}, cstep{socks4Req([4]byte{127, 0, 0, 1}, "", ""), nil}); err != nil {
		t.Error(err)
	}
}

func basic(u, p string) string {
	return "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) + "\r\n"
}

func TestServerHTTP(t *testing.T) {
	cfg := &ServerConfig{Resolver: testNames}
	req, err, client, server := accept(t, cfg, cstep{[]byte("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nclient hello"), nil})
	if err != nil || req.Proto != HTTP || req.Target != "example.com:443" || string(req.Prefix) != "client hello" {
		t.Fatalf("%+v %v", req, err)
	}
	expectReply(t, req, client, server, nil, nil, []byte("HTTP/1.1 200 Connection established\r\n\r\n"))

	req, err, _, _ = accept(t, cfg, cstep{[]byte("CONNECT [2001:db8::1]:22 HTTP/1.0\n\n"), nil})
	if err != nil || req.Target != "[2001:db8::1]:22" || req.Prefix != nil {
		t.Fatalf("%+v %v", req, err)
	}

	auth := &ServerConfig{Users: users(), Resolver: testNames}
	req, err, _, _ = accept(t, auth, cstep{[]byte("CONNECT example.com:443 HTTP/1.1\r\nproxy-authorization:   basic " +
		base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPass)) + "  \r\n\r\n"), nil})
	if err != nil || req.User != testUser {
		t.Fatalf("auth: %+v %v", req, err)
	}

	resp := func(status int, body string) []byte { return httpResponse(status, body) }
	challenge := "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"gnc\"\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 44\r\nConnection: close\r\n\r\nno credentials (Proxy-Authorization: Basic)\n"
	if string(resp(407, "no credentials (Proxy-Authorization: Basic)\n")) != challenge {
		t.Fatalf("407 is %q", resp(407, "no credentials (Proxy-Authorization: Basic)\n"))
	}
	notImpl := "HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 82\r\nConnection: close\r\n\r\n" +
		"this proxy serves only CONNECT requests (tunnels); it does not fetch http:// URLs\n"
	for _, tc := range []struct {
		name  string
		cfg   *ServerConfig
		send  string
		want  []byte
		text  string
		cause error
	}{
		{"GET http://", cfg, "GET http://" + testUser + ":" + testPass + "@example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", []byte(notImpl),
			"http: GET request: only CONNECT is served", ErrUnsupported},
		{"origin-form GET", cfg, "GET / HTTP/1.1\r\n\r\n", []byte(notImpl), "http: GET request: only CONNECT is served", ErrUnsupported},
		{"no credentials", auth, "CONNECT example.com:443 HTTP/1.1\r\n\r\n", []byte(challenge),
			"http connect to example.com:443: no credentials (Proxy-Authorization: Basic)", ErrAuth},
		{"wrong credentials", auth, "CONNECT example.com:443 HTTP/1.1\r\n" + basic(testUser, "nope") + "\r\n", resp(407, "authentication refused\n"),
			"http connect to example.com:443: authentication refused", ErrAuth},
		{"garbled credentials", auth, "CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Basic %%%\r\n\r\n", resp(407, "authentication refused\n"),
			"http connect to example.com:443: authentication refused", ErrAuth},
		{"other scheme", auth, "CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Bearer x\r\n\r\n", []byte(challenge),
			"http connect to example.com:443: no credentials (Proxy-Authorization: Basic)", ErrAuth},
		{"no port", cfg, "CONNECT example.com HTTP/1.1\r\n\r\n", resp(400, "CONNECT needs host:port\n"), "http: CONNECT needs host:port", ErrProtocol},
		{"request line", cfg, "CONNECT example.com:443\r\n\r\n", resp(400, "malformed HTTP request line\n"), "http: malformed HTTP request line", ErrProtocol},
		{"version", cfg, "CONNECT example.com:443 HTTP/2\r\n\r\n", resp(400, "malformed HTTP request line\n"), "http: malformed HTTP request line", ErrProtocol},
		{"too long", cfg, "CONNECT example.com:443 HTTP/1.1\r\n" + strings.Repeat("X-Pad: 0123456789abcdef0123456789abcdef\r\n", 500) + "\r\n",
			resp(431, "HTTP request head longer than 16 KiB\n"), "http: HTTP request head longer than 16 KiB", ErrProtocol},
		{"not served", &ServerConfig{Protocols: []Kind{SOCKS5}}, "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
			resp(501, "HTTP proxying is not served here\n"), "http: HTTP proxying is not served here", ErrUnsupported},
		{"unresolvable", cfg, "CONNECT nowhere:443 HTTP/1.1\r\n\r\n", resp(502, "cannot resolve: no such host\n"),
			"http connect to nowhere:443: cannot resolve: no such host", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err, client, _ := accept(t, tc.cfg, cstep{[]byte(tc.send), tc.want})
			if err == nil || !strings.HasSuffix(err.Error(), ": "+tc.text) || tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Errorf("got %v, want ...: %s", err, tc.text)
			}
			// The refusal is all: the server sends nothing more.
			if n, _ := client.Read(make([]byte, 1)); n != 0 {
				t.Error("bytes after the refusal")
			}
		})
	}
}

func TestServerNotAProxyRequest(t *testing.T) {
	_, err, client, _ := accept(t, nil, cstep{[]byte{0x16, 3, 1, 0, 1}, nil})
	if err == nil || !strings.HasSuffix(err.Error(), "not a SOCKS or HTTP proxy request (first byte 0x16)") || !errors.Is(err, ErrProtocol) {
		t.Errorf("%v", err)
	}
	if n, _ := client.Read(make([]byte, 1)); n != 0 {
		t.Error("a reply to a TLS hello")
	}
	// A client that leaves before a request, or says too little.
	for _, b := range [][]byte{{}, {5}, {5, 1}, {4, 1, 0}, []byte("CONNECT x")} {
		client, server := tcpPair(t)
		client.Write(b)
		client.CloseWrite()
		_, err := Accept(ctx5(t), server, nil)
		if got := clean(t, err); !strings.HasSuffix(got, "connection closed during the handshake") {
			t.Errorf("%q: %s", b, got)
		}
	}
	// A client that says nothing, bounded by ctx.
	_, server := tcpPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	dc := &deadlineConn{Conn: server}
	_, err = Accept(ctx, dc, nil)
	if got := clean(t, err); !strings.HasSuffix(got, ": timed out reading the request") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent client: %s", got)
	}
	if n := len(dc.last); n == 0 || !dc.last[n-1].IsZero() {
		t.Errorf("deadlines %v", dc.last)
	}
}

func mustRules(t *testing.T, ss ...string) []Rule {
	var rs []Rule
	for _, s := range ss {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestServerRules(t *testing.T) {
	for _, tc := range []struct {
		allow, deny []string
		resolve     string
		target      string
		addrs       string // admitted addresses, or "" if refused
		text        string // the refusal's reason
		status      int
	}{
		{nil, []string{"10.0.0.0/8"}, "", "10.1.2.3:22", "", "denied by to-deny 10.0.0.0/8", 403},
		{nil, []string{"10.0.0.0/8"}, "", "192.0.2.1:22", "192.0.2.1", "", 0},
		{nil, []string{"10.0.0.0/8"}, "", "inside.test:22", "", "denied by to-deny 10.0.0.0/8 (inside.test resolves to 10.0.0.5)", 403},
		{nil, []string{"10.0.0.0/8"}, "", "mapped.test:22", "", "denied by to-deny 10.0.0.0/8 (mapped.test resolves to 10.0.0.1)", 403},
		{nil, []string{"10.0.0.0/8"}, "", "[::ffff:10.0.0.1]:22", "", "denied by to-deny 10.0.0.0/8", 403},
		{nil, []string{"::ffff:10.0.0.0/104"}, "", "10.0.0.1:22", "", "denied by to-deny ::ffff:10.0.0.0/104", 403},
		{nil, []string{"10.0.0.0/8"}, "", "mixed.test:22", "192.0.2.9", "", 0},
		{nil, []string{"192.0.2.9"}, "", "192.0.2.9:22", "", "denied by to-deny 192.0.2.9", 403},
		{nil, []string{"192.0.2.9"}, "", "192.0.2.10:22", "192.0.2.10", "", 0},
		// A host rule refuses before any lookup (bad.test does not resolve).
		{nil, []string{"bad.test"}, "", "BAD.test.:22", "", "denied by to-deny bad.test", 403},
		{nil, []string{"*.corp.test"}, "", "a.corp.test:22", "", "denied by to-deny *.corp.test", 403},
		{nil, []string{"*.corp.test"}, "", "corp.test:22", "198.51.100.8", "", 0},
		{[]string{"192.0.2.0/24"}, nil, "", "192.0.2.1:22", "192.0.2.1", "", 0},
		{[]string{"192.0.2.0/24"}, nil, "", "198.51.100.1:22", "", "not allowed by any to-allow rule", 403},
		{[]string{"192.0.2.0/24"}, nil, "", "example.com:22", "192.0.2.7", "", 0},
		{[]string{"*.ok.test"}, nil, "", "x.ok.test:22", "10.9.9.9", "", 0},
		{[]string{"*.ok.test"}, nil, "", "other.test:22", "", "not allowed by any to-allow rule", 403},
		{[]string{"*.ok.test"}, nil, "", "192.0.2.1:22", "", "not allowed by any to-allow rule", 403},
		{[]string{"*.ok.test"}, []string{"10.0.0.0/8"}, "", "x.ok.test:22", "", "denied by to-deny 10.0.0.0/8 (x.ok.test resolves to 10.9.9.9)", 403},
		{[]string{"*.ok.test"}, []string{"10.0.0.0/8"}, "", "y.ok.test:22", "198.51.100.5", "", 0},
		{nil, nil, "ipv4", "example.com:22", "192.0.2.7", "", 0},
		{nil, nil, "ipv6", "example.com:22", "2001:db8::7", "", 0},
		{nil, nil, "ipv4", "v6.test:22", "", "cannot resolve: no IPv4 address", 502},
		{nil, nil, "ipv4", "[2001:db8::1]:22", "", "address family not served (resolve=ipv4)", 403},
		{nil, nil, "ipv6", "192.0.2.1:22", "", "address family not served (resolve=ipv6)", 403},
		{nil, nil, "local", "example.com:22", "192.0.2.7 2001:db8::7", "", 0},
	} {
		cfg := &ServerConfig{Allow: mustRules(t, tc.allow...), Deny: mustRules(t, tc.deny...), Resolve: tc.resolve, Resolver: testNames}
		name := tc.target + " allow " + strings.Join(tc.allow, ",") + " deny " + strings.Join(tc.deny, ",") + " " + tc.resolve
		var want []byte
		if tc.status != 0 {
			want = httpResponse(tc.status, tc.text+"\n")
		}
		req, err, _, _ := accept(t, cfg, cstep{[]byte("CONNECT " + tc.target + " HTTP/1.1\r\n\r\n"), want})
		if tc.addrs == "" {
			if err == nil || !strings.HasSuffix(err.Error(), ": "+tc.text) {
				t.Errorf("%s: got %v, want ...: %s", name, err, tc.text)
			}
			if tc.status == 403 && !errors.Is(err, ErrDenied) {
				t.Errorf("%s: cause %v", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var got []string
		for _, a := range req.Addrs {
			got = append(got, a.String())
		}
		if strings.Join(got, " ") != tc.addrs {
			t.Errorf("%s: addresses %v, want %s", name, got, tc.addrs)
		}
	}
	// SOCKS5 says "connection not allowed by ruleset", SOCKS4 91.
	cfg := &ServerConfig{Deny: mustRules(t, "10.0.0.0/8"), Resolver: testNames}
	accept(t, cfg, cstep{greetNone, okMethodNone}, cstep{cat([]byte{5, 1, 0, 3, 11}, []byte("inside.test"), []byte{0, 22}), socks5Failure(2)})
	accept(t, cfg, cstep{socks4Req([4]byte{0, 0, 0, 1}, "", "inside.test"), socks4Failure})
}

func TestReplyMapping(t *testing.T) {
	dnsErr := &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}
	for _, tc := range []struct {
		err    error
		socks5 byte
		status int
		body   string
	}{
		{dnsErr, 4, 502, "lookup x: no such host"},
		{context.DeadlineExceeded, 4, 504, "timed out"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}, 4, 504, "timed out"},
		{ErrDenied, 2, 403, "destination denied"},
		{errors.New("something"), 1, 502, "something"},
	} {
		for _, p := range []Kind{SOCKS5, SOCKS4, HTTP} {
			client, server := tcpPair(t)
			r := &Request{Proto: p, Target: "example.com:443", Port: 443}
			var want []byte
			switch p {
			case SOCKS5:
				want = socks5Failure(tc.socks5)
			case SOCKS4:
				want = socks4Failure
			case HTTP:
				body := "connect to example.com:443: " + tc.body + "\n"
				if tc.err == dnsErr {
					body = "connect to example.com:443: no such host\n"
				}
				want = httpResponse(tc.status, body)
			}
			expectReply(t, r, client, server, tc.err, nil, want)
		}
	}
}

func TestParseRule(t *testing.T) {
	for _, tc := range []struct {
		in, name, addr string
		match          bool
	}{
		{"10.0.0.0/8", "", "10.255.0.1", true},
		{"10.0.0.1/8", "", "10.255.0.1", true}, // masked
		{"10.0.0.0/8", "", "11.0.0.1", false},
		{"192.0.2.7", "", "192.0.2.7", true},
		{"::ffff:192.0.2.7", "", "192.0.2.7", true},
		{"2001:db8::/32", "", "2001:db8::9", true},
		{"example.com", "Example.COM.", "", true},
		{"example.com", "www.example.com", "", false},
		{"*.example.com", "www.EXAMPLE.com", "", true},
		{"*.example.com", "example.com", "", false},
		{"*.example.com", "xexample.com", "", false},
	} {
		r, err := ParseRule(tc.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tc.in, err)
			continue
		}
		var got bool
		if tc.name != "" {
			got = r.MatchName(tc.name)
		} else {
			got = r.MatchAddr(mustAddr(tc.addr))
			if !r.IsAddr() {
				t.Errorf("%q is not an address rule", tc.in)
			}
		}
		if got != tc.match || r.String() != tc.in {
			t.Errorf("ParseRule(%q) on %q%q = %v", tc.in, tc.name, tc.addr, got)
		}
	}
	for _, in := range []string{"", "10.0.0.0/33", "10.0.0.0/x", "::ffff:10.0.0.0/95", "fe80::1%eth0", "*.", "*.a*b", "a b", "*", "a..b", "http://x"} {
		_, err := ParseRule(in)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Hint == "" {
			t.Errorf("ParseRule(%q): %v", in, err)
		}
	}
	var zero Rule
	if zero.MatchName("x") || zero.MatchAddr(mustAddr("1.2.3.4")) {
		t.Error("the zero Rule matches")
	}
}

func TestReadAuthFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("ok", "# users\n\n"+testUser+":"+testPass+"\r\n  # indented comment\nbob:pa#ss:w\ncarol:\n")
	m, err := ReadAuthFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m[testUser] != testPass || m["bob"] != "pa#ss:w" || m["carol"] != "" {
		t.Errorf("%q", m)
	}
	for _, tc := range []struct{ text, err string }{
		{"ok:1\n" + testUser + testPass + "\n", ":2: no ':' between user and password"},
		{":" + testPass + "\n", ":1: no user name before ':'"},
		{testUser + ":a\n" + testUser + ":" + testPass + "\n", ":2: a user given twice (first on line 1)"},
		{"u:" + strings.Repeat("p", 256) + "\n", ":1: a user name or password is longer than 255 bytes"},
		{strings.Repeat("x", 5000) + "\n", ": a line longer than 4096 bytes"},
	} {
		p := write("bad", tc.text)
		_, err := ReadAuthFile(p)
		var fe *FileError
		if !errors.As(err, &fe) || clean(t, err) != p+tc.err || fe.Hint == "" {
			t.Errorf("%q: got %v, want %s%s", tc.text, err, p, tc.err)
		}
	}
	_, err = ReadAuthFile(filepath.Join(dir, "missing"))
	if got := clean(t, err); got != filepath.Join(dir, "missing")+": no such file or directory" {
		t.Error(got)
	}
}

func TestServerConfigValidate(t *testing.T) {
	for _, cfg := range []*ServerConfig{
		{Resolve: "dns"},
		{Protocols: []Kind{0}},
		{Users: map[string]string{"": "x"}},
		{Users: map[string]string{testUser: strings.Repeat("p", 256)}},
	} {
		var pe *ParseError
		if err := cfg.Validate(); !errors.As(err, &pe) {
			t.Errorf("%+v: %v", cfg.Resolve, err)
		} else {
			clean(t, err)
		}
	}
	for _, cfg := range []*ServerConfig{{Resolve: "dns"}, {Protocols: []Kind{0}}} {
		if _, err := Accept(ctx5(t), newMemConn([]byte{5, 1, 0}), cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if err := (&ServerConfig{Users: users(), Resolve: "ipv6", Protocols: []Kind{SOCKS5h}}).Validate(); err != nil {
		t.Error(err)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
