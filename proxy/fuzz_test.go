package proxy

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// Seeds beyond these are in testdata/fuzz/.

// checkHop is what every parsed Hop must be.
func checkHop(t *testing.T, h Hop) {
	host, port, err := net.SplitHostPort(h.Addr)
	if err != nil || !validHost(host) {
		t.Fatalf("Addr %q", h.Addr)
	}
	if _, ok := parsePort(port); !ok {
		t.Fatalf("port in %q", h.Addr)
	}
	if h.Kind < SOCKS4 || h.Kind > HTTP {
		t.Fatalf("kind %v", h.Kind)
	}
	if h.Pass != "" && len(h.Pass) >= 4 && strings.Contains(h.String(), h.Pass) && !strings.Contains(h.Kind.String()+"://"+h.Addr, h.Pass) {
		t.Fatalf("String %q shows the password", h.String())
	}
	// What String shows parses back to the same place.
	again, err := ParseURL(h.Kind.String() + "://" + h.Addr)
	if err != nil || again.Addr != h.Addr || again.Kind != h.Kind {
		t.Fatalf("%q parses back as %+v, %v", h.String(), again, err)
	}
}

// checkRedacted fails if the error quotes the userinfo of s. Only
// Value quotes the input (Reason and Hint are fixed texts, which a short
// userinfo could happen to match), so Value is what is checked.
func checkRedacted(t *testing.T, s string, err error) {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		start = i + 3
	}
	userinfo := s[start:at]
	if strings.Trim(userinfo, "*") == "" || strings.Contains(s[at:], userinfo) || strings.Contains(s[:start], userinfo) {
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.What == "proxy type" {
		return
	}
	if strings.Contains(pe.Value, userinfo) {
		t.Fatalf("error %q quotes the credentials %q", err, userinfo)
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"socks5h://u:p@127.0.0.1:1080", "http://[::1]:3128/", "socks4a://h", "socks5://u%40:p%zz@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseURL(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%T %v", err, err)
			}
			checkRedacted(t, s, err)
			return
		}
		checkHop(t, h)
	})
}

func FuzzParseHop(f *testing.F) {
	for _, s := range [][2]string{{"127.0.0.1:1080", "5"}, {"::1", "4"}, {"h", "connect"}, {"socks5://h", "http"}, {"u:p@h", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, typ string) {
		h, err := ParseHop(s, typ)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%T %v", err, err)
			}
			checkRedacted(t, s, err)
			return
		}
		checkHop(t, h)
		if typ != "" && kindOfType(typ).family() != h.Kind.family() {
			t.Fatalf("type %q gave %v", typ, h.Kind)
		}
	})
}

// clientFuzz runs Handshake against a proxy that answers data.
func clientFuzz(t *testing.T, k Kind, auth bool, data []byte) ([]byte, error) {
	h := Hop{Kind: k, Addr: "127.0.0.1:1080"}
	if auth {
		h.User, h.Pass = testUser, testPass
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resolve := fakeResolver(map[string][]string{"example.com": {"192.0.2.7"}})
	prefix, err := Handshake(ctx, newMemConn(data), h, "example.com:443", resolve)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%T %v", err, err)
		}
		clean(t, err)
		if strings.ContainsAny(err.Error(), "\r\n\x1b") {
			t.Fatalf("control bytes in %q", err)
		}
	}
	return prefix, err
}

func FuzzSOCKS5Reply(f *testing.F) {
	f.Add(false, []byte{5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Add(true, []byte{5, 2, 1, 0, 5, 0, 0, 3, 1, 'x', 0, 0})
	f.Fuzz(func(t *testing.T, auth bool, data []byte) {
		prefix, err := clientFuzz(t, SOCKS5h, auth, data)
		if err == nil && prefix != nil {
			t.Fatalf("SOCKS5 returned a prefix %q", prefix)
		}
	})
}

func FuzzSOCKS4Reply(f *testing.F) {
	f.Add(false, []byte{0, 90, 0, 0, 0, 0, 0, 0})
	f.Add(true, []byte{0, 91, 0, 0, 0, 0, 0, 0, 'x'})
	f.Fuzz(func(t *testing.T, name bool, data []byte) {
		k := SOCKS4
		if name {
			k = SOCKS4a
		}
		prefix, err := clientFuzz(t, k, false, data)
		if err == nil && (prefix != nil || len(data) < 8 || data[1] != 90) {
			t.Fatalf("SOCKS4 accepted %q, prefix %q", data, prefix)
		}
	})
}

func FuzzHTTPConnectReply(f *testing.F) {
	f.Add(false, []byte("HTTP/1.1 200 Connection established\r\n\r\ndata"))
	f.Add(true, []byte("HTTP/1.0 407 Proxy Authentication Required\n\n"))
	f.Fuzz(func(t *testing.T, auth bool, data []byte) {
		prefix, err := clientFuzz(t, HTTP, auth, data)
		if err != nil {
			return
		}
		// The prefix is exactly what follows the head.
		if !bytes.HasSuffix(data, prefix) {
			t.Fatalf("prefix %q is not the tail of %q", prefix, data)
		}
		head := data[:len(data)-len(prefix)]
		if !bytes.HasSuffix(head, []byte("\n\n")) && !bytes.HasSuffix(head, []byte("\n\r\n")) {
			t.Fatalf("head %q does not end with an empty line", head)
		}
		if !bytes.HasPrefix(head, []byte("HTTP/")) || len(head) < 14 || head[9] != '2' {
			t.Fatalf("accepted %q", head)
		}
		if bytes.Contains(head[:len(head)-2], []byte("\n\n")) || bytes.Contains(head[:len(head)-3], []byte("\n\r\n")) {
			t.Fatalf("head %q runs past its end", head)
		}
	})
}

func FuzzAccept(f *testing.F) {
	f.Add(uint8(0), []byte{5, 1, 0, 5, 1, 0, 3, 1, 'x', 0, 80})
	f.Add(uint8(1), []byte("CONNECT x:1 HTTP/1.1\r\nProxy-Authorization: Basic YWxpY2UtVXMzcjpzM2NyM3QtUGE1NQ==\r\n\r\nrest"))
	f.Add(uint8(2), []byte{4, 1, 0, 80, 0, 0, 0, 1, 'u', 0, 'x', 0})
	resolveAll := func(ctx context.Context, host string) ([]net.IP, error) {
		if strings.HasPrefix(host, "no") {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return []net.IP{net.IPv4(127, 0, 0, 1), net.ParseIP("2001:db8::1")}, nil
	}
	rule := func(s string) Rule {
		r, err := ParseRule(s)
		if err != nil {
			panic(err)
		}
		return r
	}
	configs := []*ServerConfig{
		{Resolver: resolveAll},
		{Resolver: resolveAll, Users: users()},
		{Resolver: resolveAll, Deny: []Rule{rule("127.0.0.1")}, Resolve: "ipv6"},
		{Resolver: resolveAll, Protocols: []Kind{SOCKS4}, Allow: []Rule{rule("*.test")}},
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		cfg := configs[int(which)%len(configs)]
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c := newMemConn(data)
		req, err := Accept(ctx, c, cfg)
		if ctx.Err() != nil {
			t.Fatal("Accept ran into its deadline on in-memory input")
		}
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("%T %v", err, err)
			}
			clean(t, err)
			if strings.ContainsAny(err.Error(), "\r\n\x1b") {
				t.Fatalf("control bytes in %q", err)
			}
			return
		}
		if req.Target == "" || len(req.Addrs) == 0 || req.Port == 0 && !strings.HasSuffix(req.Target, ":0") {
			t.Fatalf("request %+v", req)
		}
		if len(req.Prefix) > 0 && !bytes.HasSuffix(data, req.Prefix) {
			t.Fatalf("prefix %q is not the tail of the input", req.Prefix)
		}
		if len(cfg.Users) > 0 && req.User == "" {
			t.Fatalf("admitted without authentication: %+v", req)
		}
		if err := req.Reply(c, nil, nil); err != nil {
			t.Fatal(err)
		}
	})
}
