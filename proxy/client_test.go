package proxy

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// handshake runs Handshake against a fake proxy playing steps, and
// returns its result after checking the proxy saw what it expected.
func handshake(t *testing.T, h Hop, target string, resolve Resolver, steps ...step) ([]byte, error, net.Conn) {
	t.Helper()
	client, server := tcpPair(t)
	done := fakeProxy(t, server, steps...)
	prefix, err := Handshake(ctx5(t), client, h, target, resolve)
	clean(t, err)
	if ferr := <-done; ferr != nil && err == nil {
		t.Fatalf("proxy side: %v", ferr)
	}
	return prefix, err, server
}

func hop(k Kind) Hop { return Hop{Kind: k, Addr: "127.0.0.1:1080"} }

func authed(k Kind) Hop {
	h, err := hop(k).WithAuth(testUser, testPass)
	if err != nil {
		panic(err)
	}
	return h
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	greetNone     = []byte{5, 1, 0}
	greetUserPass = []byte{5, 2, 0, 2}
	okMethodNone  = []byte{5, 0}
	okMethodUP    = []byte{5, 2}
	socks5OK      = []byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	// CONNECT example.com:443 by name.
	reqName = cat([]byte{5, 1, 0, 3, 11}, []byte("example.com"), []byte{1, 187})
)

func userPassMsg(u, p string) []byte {
	return cat([]byte{1, byte(len(u))}, []byte(u), []byte{byte(len(p))}, []byte(p))
}

// TestSOCKS5NameOrAddress shows socks5h sending the name and socks5
// resolving it locally.
func TestSOCKS5NameOrAddress(t *testing.T) {
	prefix, err, server := handshake(t, hop(SOCKS5h), "example.com:443", nil,
		step{greetNone, okMethodNone}, step{reqName, socks5OK})
	if err != nil || prefix != nil {
		t.Fatalf("socks5h: %v %q", err, prefix)
	}
	// The conn is the tunnel now.
	server.Write([]byte("banner"))
	_ = server

	resolve := fakeResolver(map[string][]string{"example.com": {"2001:db8::7", "192.0.2.7"}})
	_, err, _ = handshake(t, hop(SOCKS5), "example.com:443", resolve,
		step{greetNone, okMethodNone},
		step{cat([]byte{5, 1, 0, 4}, net.ParseIP("2001:db8::7"), []byte{1, 187}), socks5OK})
	if err != nil {
		t.Fatalf("socks5: %v", err)
	}
	// An address target is sent as an address by both.
	for _, k := range []Kind{SOCKS5, SOCKS5h} {
		_, err, _ = handshake(t, hop(k), "192.0.2.1:80", nil,
			step{greetNone, okMethodNone}, step{[]byte{5, 1, 0, 1, 192, 0, 2, 1, 0, 80}, socks5OK})
		if err != nil {
			t.Fatalf("%v address: %v", k, err)
		}
	}
	// A name that does not resolve is a resolve error, sent nowhere.
	client, _ := tcpPair(t)
	_, err = Handshake(ctx5(t), client, hop(SOCKS5), "nowhere.invalid:80", resolve)
	if got := clean(t, err); got != "proxy socks5://127.0.0.1:1080: resolve nowhere.invalid:80: no such host" {
		t.Errorf("unresolvable: %s", got)
	}
}

func TestSOCKS5TunnelBytes(t *testing.T) {
	client, server := tcpPair(t)
	done := fakeProxy(t, server, step{greetNone, okMethodNone}, step{reqName, cat(socks5OK, []byte("first"))})
	prefix, err := Handshake(ctx5(t), client, hop(SOCKS5h), "example.com:443", nil)
	if err != nil || prefix != nil {
		t.Fatalf("%v %q", err, prefix)
	}
	<-done
	// SOCKS replies are read exactly: what follows is still in the conn.
	b := make([]byte, 5)
	if _, err := io.ReadFull(client, b); err != nil || string(b) != "first" {
		t.Fatalf("tunnel: %q %v", b, err)
	}
}

// TestSOCKS5ReplyCodes checks every reply code's words, through
// x/net's client, so a change of its messages fails here.
func TestSOCKS5ReplyCodes(t *testing.T) {
	for code := 1; code <= 255; code++ {
		_, err, _ := handshake(t, hop(SOCKS5h), "example.com:443", nil,
			step{greetNone, okMethodNone}, step{reqName, []byte{5, byte(code), 0, 1, 0, 0, 0, 0, 0, 0}})
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("code %d: %v", code, err)
		}
		want := SOCKS5Reason(code)
		if code <= 8 && want != socks5Words[code] {
			t.Fatalf("code %d words", code)
		}
		if e.Code != code || e.Reason != want || !errors.Is(err, ErrRejected) {
			t.Errorf("code %d: got code %d reason %q", code, e.Code, e.Reason)
		}
		if got, w := err.Error(), "proxy socks5h://127.0.0.1:1080: connect to example.com:443: "+want; got != w {
			t.Errorf("code %d:\n got %s\nwant %s", code, got, w)
		}
	}
	for code, words := range map[int]string{
		1: "general SOCKS server failure", 2: "connection not allowed by ruleset", 3: "network unreachable",
		4: "host unreachable", 5: "connection refused", 6: "TTL expired", 7: "command not supported",
		8: "address type not supported", 9: "unassigned reply code 9",
	} {
		if SOCKS5Reason(code) != words {
			t.Errorf("SOCKS5Reason(%d) = %q, want %q", code, SOCKS5Reason(code), words)
		}
	}
}

func TestSOCKS5Auth(t *testing.T) {
	// Credentials offered and accepted.
	_, err, _ := handshake(t, authed(SOCKS5h), "example.com:443", nil,
		step{greetUserPass, okMethodUP}, step{userPassMsg(testUser, testPass), []byte{1, 0}}, step{reqName, socks5OK})
	if err != nil {
		t.Fatalf("accepted: %v", err)
	}
	// Credentials offered, the proxy needs none.
	_, err, _ = handshake(t, authed(SOCKS5h), "example.com:443", nil,
		step{greetUserPass, okMethodNone}, step{reqName, socks5OK})
	if err != nil {
		t.Fatalf("not needed: %v", err)
	}
	for _, tc := range []struct {
		name  string
		h     Hop
		steps []step
		text  string
		code  int
		hint  string
		cause error
	}{
		{"refused", authed(SOCKS5h), []step{{greetUserPass, okMethodUP}, {userPassMsg(testUser, testPass), []byte{1, 1}}},
			"authentication refused", 0, "check the proxy user name and password", ErrAuth},
		{"required", hop(SOCKS5h), []step{{greetNone, []byte{5, 0xff}}},
			"the proxy requires authentication", 0xff, authHint, ErrAuth},
		{"no method", authed(SOCKS5h), []step{{greetUserPass, []byte{5, 0xff}}},
			"the proxy accepts none of the offered authentication methods (none, username/password)", 0xff, "", ErrAuth},
		{"bad auth version", authed(SOCKS5h), []step{{greetUserPass, okMethodUP}, {userPassMsg(testUser, testPass), []byte{5, 0}}},
			"not a SOCKS5 authentication reply", 0, "", ErrProtocol},
		{"GSSAPI", authed(SOCKS5h), []step{{greetUserPass, []byte{5, 1}}},
			"the proxy chose an authentication method gnc does not offer (1)", 0, "", ErrProtocol},
		{"HTTP proxy", hop(SOCKS5h), []step{{greetNone, []byte("HTTP/1.1 400 Bad Request\r\n\r\n")}},
			"not a SOCKS5 reply", 0, "the proxy answered in HTTP: use an http:// proxy", ErrProtocol},
		{"bad request reply version", hop(SOCKS5h), []step{{greetNone, okMethodNone}, {reqName, []byte{4, 0, 0, 1, 0, 0, 0, 0, 0, 0}}},
			"not a SOCKS5 reply", 0, "", ErrProtocol},
		{"reserved", hop(SOCKS5h), []step{{greetNone, okMethodNone}, {reqName, []byte{5, 0, 1, 1, 0, 0, 0, 0, 0, 0}}},
			"malformed SOCKS5 reply (non-zero reserved field)", 0, "", ErrProtocol},
		{"address type", hop(SOCKS5h), []step{{greetNone, okMethodNone}, {reqName, []byte{5, 0, 0, 9, 0, 0, 0, 0, 0, 0}}},
			"malformed SOCKS5 reply (unknown address type 9)", 0, "", ErrProtocol},
		{"closed", hop(SOCKS5h), []step{{greetNone, okMethodNone}, {reqName, []byte{5, 0, 0}}},
			"connection closed during the handshake", 0, "", io.ErrUnexpectedEOF},
	} {
		client, server := tcpPair(t)
		done := fakeProxy(t, server, tc.steps...)
		go func() { <-done; server.CloseWrite() }()
		_, err := Handshake(ctx5(t), client, tc.h, "example.com:443", nil)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		clean(t, err)
		if e.Reason != tc.text || e.Code != tc.code || e.Hint != tc.hint || !errors.Is(err, tc.cause) {
			t.Errorf("%s: got %q code %d hint %q cause %v", tc.name, e.Reason, e.Code, e.Hint, e.Err)
		}
		if !strings.HasPrefix(err.Error(), "proxy socks5h://127.0.0.1:1080") || !strings.Contains(err.Error(), ": connect to example.com:443: ") {
			t.Errorf("%s: %s", tc.name, err)
		}
	}
}

func socks4Req(ip [4]byte, user, name string) []byte {
	b := cat([]byte{4, 1, 1, 187}, ip[:], []byte(user), []byte{0})
	if name != "" {
		b = cat(b, []byte(name), []byte{0})
	}
	return b
}

func TestSOCKS4Framing(t *testing.T) {
	resolve := fakeResolver(map[string][]string{"example.com": {"2001:db8::7", "192.0.2.7"}, "v6only": {"2001:db8::7"}})
	granted := []byte{0, 90, 0, 0, 0, 0, 0, 0}
	// socks4 resolves locally and sends the first IPv4 address.
	_, err, _ := handshake(t, hop(SOCKS4), "example.com:443", resolve, step{socks4Req([4]byte{192, 0, 2, 7}, "", ""), granted})
	if err != nil {
		t.Fatal(err)
	}
	// socks4a sends the name, with 0.0.0.1 as the address.
	h, _ := hop(SOCKS4a).WithAuth(testUser, "")
	_, err, _ = handshake(t, h, "example.com:443", resolve, step{socks4Req([4]byte{0, 0, 0, 1}, testUser, "example.com"), granted})
	if err != nil {
		t.Fatal(err)
	}
	// An address is sent as one by socks4a too; some servers echo VN 4.
	_, err, _ = handshake(t, hop(SOCKS4a), "10.1.2.3:443", resolve, step{socks4Req([4]byte{10, 1, 2, 3}, "", ""), []byte{4, 90, 0, 0, 0, 0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		k      Kind
		target string
		reply  []byte
		text   string
		hint   bool
		cause  error
	}{
		{SOCKS4, "example.com:443", []byte{0, 91, 0, 0, 0, 0, 0, 0}, "proxy socks4://127.0.0.1:1080: connect to example.com:443: request rejected or failed", false, ErrRejected},
		{SOCKS4a, "example.com:443", []byte{0, 91, 0, 0, 0, 0, 0, 0}, "proxy socks4a://127.0.0.1:1080: connect to example.com:443: request rejected or failed", true, ErrRejected},
		{SOCKS4, "example.com:443", []byte{0, 92, 0, 0, 0, 0, 0, 0}, "proxy socks4://127.0.0.1:1080: connect to example.com:443: rejected: the proxy cannot reach identd on the client", true, ErrRejected},
		{SOCKS4, "example.com:443", []byte{0, 93, 0, 0, 0, 0, 0, 0}, "proxy socks4://127.0.0.1:1080: connect to example.com:443: rejected: identd reports a different user", true, ErrRejected},
		{SOCKS4, "example.com:443", []byte{0, 7, 0, 0, 0, 0, 0, 0}, "proxy socks4://127.0.0.1:1080: connect to example.com:443: not a SOCKS4 reply (reply code 7)", false, ErrProtocol},
		{SOCKS4, "example.com:443", []byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}, "proxy socks4://127.0.0.1:1080: connect to example.com:443: not a SOCKS4 reply", true, ErrProtocol},
		{SOCKS4, "example.com:443", []byte("HTTP/1.0"), "proxy socks4://127.0.0.1:1080: connect to example.com:443: not a SOCKS4 reply", true, ErrProtocol},
		{SOCKS4, "example.com:443", []byte{0, 90}, "proxy socks4://127.0.0.1:1080: connect to example.com:443: connection closed during the handshake", false, io.ErrUnexpectedEOF},
	} {
		client, server := tcpPair(t)
		go func() {
			buf := make([]byte, 64)
			server.Read(buf)
			server.Write(tc.reply)
			server.CloseWrite()
		}()
		_, err := Handshake(ctx5(t), client, hop(tc.k), tc.target, resolve)
		var e *Error
		if !errors.As(err, &e) || clean(t, err) != tc.text || (e.Hint != "") != tc.hint || !errors.Is(err, tc.cause) {
			t.Errorf("reply %v: got %v (hint %q)\nwant %s", tc.reply, err, e.Hint, tc.text)
		}
	}
	if SOCKS4Reason(90) != "request granted" {
		t.Error(SOCKS4Reason(90))
	}
	// What SOCKS4 cannot carry is said before anything is sent.
	for _, tc := range []struct {
		k      Kind
		target string
		text   string
	}{
		{SOCKS4, "[2001:db8::1]:443", "proxy socks4://127.0.0.1:1080: connect to [2001:db8::1]:443: SOCKS4 carries only IPv4 addresses"},
		{SOCKS4a, "[2001:db8::1]:443", "proxy socks4a://127.0.0.1:1080: connect to [2001:db8::1]:443: SOCKS4 carries only IPv4 addresses"},
		{SOCKS4, "v6only:443", "proxy socks4://127.0.0.1:1080: resolve v6only:443: no IPv4 address, and SOCKS4 carries only IPv4"},
		{SOCKS4, "a b:443", `proxy socks4://127.0.0.1:1080: connect to a b:443: invalid target "a b:443": not a host name or address`},
		{SOCKS4, "example.com:0", `proxy socks4://127.0.0.1:1080: connect to example.com:0: invalid target "example.com:0": a port is a number from 1 to 65535`},
	} {
		client, _ := tcpPair(t)
		_, err := Handshake(ctx5(t), client, hop(tc.k), tc.target, resolve)
		var e *Error
		if !errors.As(err, &e) || clean(t, err) != tc.text {
			t.Errorf("%s: got %v\nwant %s", tc.target, err, tc.text)
		}
	}
}

func httpReq(authority string, auth bool) []byte {
	s := "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n"
	if auth {
		s += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPass)) + "\r\n"
	}
	return []byte(s + "\r\n")
}

func TestHTTPConnectFraming(t *testing.T) {
	// Bytes after the reply head are the tunnel's first bytes, returned
	// intact.
	prefix, err, _ := handshake(t, hop(HTTP), "example.com:443", nil,
		step{httpReq("example.com:443", false), []byte("HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\nSSH-2.0-banner\r\n")})
	if err != nil || string(prefix) != "SSH-2.0-banner\r\n" {
		t.Fatalf("prefix %q, %v", prefix, err)
	}
	// Credentials go in Proxy-Authorization; IPv6 targets in brackets;
	// bare LF line ends and a 2xx other than 200 are accepted.
	prefix, err, _ = handshake(t, authed(HTTP), "[2001:db8::1]:22", nil,
		step{httpReq("[2001:db8::1]:22", true), []byte("HTTP/1.0 204 OK\n\n")})
	if err != nil || prefix != nil {
		t.Fatalf("auth: %q, %v", prefix, err)
	}
	for _, tc := range []struct {
		name  string
		h     Hop
		reply string
		text  string
		code  int
		hint  string
		cause error
	}{
		{"407 without credentials", hop(HTTP), "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n",
			"proxy http://127.0.0.1:1080: connect to example.com:443: HTTP/1.1 407 Proxy Authentication Required", 407, authHint, ErrAuth},
		{"407 with credentials", authed(HTTP), "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
			"proxy http://127.0.0.1:1080 (with credentials): connect to example.com:443: HTTP/1.1 407 Proxy Authentication Required", 407,
			"the proxy refused the credentials given: check the user name and password", ErrAuth},
		{"401 (tinyproxy's refusal)", authed(HTTP), "HTTP/1.0 401 Unauthorized\r\n\r\n",
			"proxy http://127.0.0.1:1080 (with credentials): connect to example.com:443: HTTP/1.0 401 Unauthorized", 401,
			"the proxy refused the credentials given: check the user name and password", ErrAuth},
		{"403", hop(HTTP), "HTTP/1.1 403 Forbidden\r\n\r\n",
			"proxy http://127.0.0.1:1080: connect to example.com:443: HTTP/1.1 403 Forbidden", 403, "", ErrRejected},
		{"502 with body", hop(HTTP), "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\n\r\nnope\n",
			"proxy http://127.0.0.1:1080: connect to example.com:443: HTTP/1.1 502 Bad Gateway", 502, "", ErrRejected},
		{"terminal escapes", hop(HTTP), "HTTP/1.1 500 \x1b[31mred\x7f\r\n\r\n",
			"proxy http://127.0.0.1:1080: connect to example.com:443: HTTP/1.1 500 ?[31mred?", 500, "", ErrRejected},
		{"no reason", hop(HTTP), "HTTP/1.1 503\r\n\r\n",
			"proxy http://127.0.0.1:1080: connect to example.com:443: HTTP/1.1 503", 503, "", ErrRejected},
		{"garbled", hop(HTTP), "HTTP/1.1 20x OK\r\n\r\n",
			"proxy http://127.0.0.1:1080: connect to example.com:443: malformed HTTP response", 0, "", ErrProtocol},
		{"SOCKS5", hop(HTTP), "\x05\xff",
			"proxy http://127.0.0.1:1080: connect to example.com:443: malformed HTTP response", 0, "the proxy answered in SOCKS5: use a socks5:// or socks5h:// proxy", ErrProtocol},
		{"cut short", hop(HTTP), "HTTP/1.1 200 Conn",
			"proxy http://127.0.0.1:1080: connect to example.com:443: connection closed during the handshake", 0, "", io.ErrUnexpectedEOF},
		{"too long", hop(HTTP), "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Filler: 0123456789abcdef\r\n", 700) + "\r\n",
			"proxy http://127.0.0.1:1080: connect to example.com:443: HTTP response head longer than 16 KiB", 0, "", ErrProtocol},
	} {
		client, server := tcpPair(t)
		go func() {
			io.ReadFull(server, make([]byte, len(httpReq("example.com:443", tc.h.HasAuth()))))
			server.Write([]byte(tc.reply))
			server.CloseWrite()
		}()
		_, err := Handshake(ctx5(t), client, tc.h, "example.com:443", nil)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if clean(t, err) != tc.text || e.Code != tc.code || e.Hint != tc.hint || !errors.Is(err, tc.cause) {
			t.Errorf("%s: got %q code %d hint %q cause %v\nwant %q", tc.name, err, e.Code, e.Hint, e.Err, tc.text)
		}
	}
}

// TestHTTPHeadExactly16K accepts a head of exactly the limit and keeps
// the bytes after it, however the reads split.
func TestHTTPHeadExactly16K(t *testing.T) {
	start := "HTTP/1.1 200 OK\r\nX: "
	head := start + strings.Repeat("a", maxHTTPHead-len(start)-4) + "\r\n\r\n"
	if len(head) != maxHTTPHead {
		t.Fatal(len(head))
	}
	for _, split := range []int{1, len(head) - 2, len(head) - 1, len(head)} {
		client, server := tcpPair(t)
		go func() {
			io.ReadFull(server, make([]byte, len(httpReq("h:1", false))))
			msg := head + "tail"
			server.Write([]byte(msg[:split]))
			server.Write([]byte(msg[split:]))
		}()
		prefix, err := Handshake(ctx5(t), client, hop(HTTP), "h:1", nil)
		if err != nil {
			t.Fatalf("split %d: %v", split, err)
		}
		got := string(prefix)
		if rest := 4 - len(got); rest > 0 {
			b := make([]byte, rest)
			io.ReadFull(client, b)
			got += string(b)
		}
		if got != "tail" {
			t.Errorf("split %d: tunnel starts %q", split, got)
		}
	}
}

// TestHandshakeContext shows the handshake bounded by ctx, and the conn
// left without a deadline either way.
func TestHandshakeContext(t *testing.T) {
	for _, k := range []Kind{SOCKS4, SOCKS5h, HTTP} {
		client, _ := tcpPair(t) // a proxy that never answers
		dc := &deadlineConn{Conn: client}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := Handshake(ctx, dc, hop(k), "192.0.2.1:80", nil)
		cancel()
		var e *Error
		if !errors.As(err, &e) || e.Reason != "timed out" || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%v: %v", k, err)
		}
		if n := len(dc.last); n == 0 || !dc.last[n-1].IsZero() {
			t.Errorf("%v: deadlines %v; the last must clear it", k, dc.last)
		}

		client, _ = tcpPair(t)
		ctx, cancel = context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := Handshake(ctx, client, hop(k), "192.0.2.1:80", nil)
			errc <- err
		}()
		cancel()
		err = <-errc
		if !errors.As(err, &e) || e.Reason != "cancelled" || !errors.Is(err, context.Canceled) {
			t.Errorf("%v cancelled: %v %#v", k, err, e.Err)
		}
	}
	// A successful handshake leaves no deadline either.
	client, server := tcpPair(t)
	done := fakeProxy(t, server, step{httpReq("h:1", false), []byte("HTTP/1.1 200 OK\r\n\r\n")})
	dc := &deadlineConn{Conn: client}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Handshake(ctx, dc, hop(HTTP), "h:1", nil); err != nil {
		t.Fatal(err)
	}
	<-done
	if n := len(dc.last); n < 2 || dc.last[0].IsZero() || !dc.last[n-1].IsZero() {
		t.Errorf("deadlines %v: want the ctx's, then none", dc.last)
	}
}
