package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"gnc/proxy"
)

// A client through a chain given as --proxy values: the first proxy is
// dialed directly, each is asked for the next, the last for the target.
func ExampleDial() {
	var chain []proxy.Hop
	for _, arg := range []string{"socks5h://127.0.0.1:1080", "http://127.0.0.1:3128"} {
		h, err := proxy.ParseHop(arg, "") // -X / --proxy-type value as typ
		if err != nil {
			fmt.Println(err) // a usage error: exit 2, with the hint
			return
		}
		chain = append(chain, h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, prefix, err := proxy.Dial(ctx, &net.Dialer{}, chain, "example.com:443", nil)
	if err != nil {
		var e *proxy.Error
		if errors.As(err, &e) && e.Hint != "" {
			fmt.Println(err, "/ hint:", e.Hint)
		}
		return
	}
	defer c.Close()
	// c is the raw socket; prefix goes first, e.g. through a Prefixed
	// capability of the endpoint.
	_ = prefix
}

// A server loop: Accept the request, dial what was admitted, Reply,
// then relay (with the request's Prefix sent to the destination first).
func ExampleAccept() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return
	}
	defer ln.Close()
	deny, _ := proxy.ParseRule("10.0.0.0/8")
	cfg := &proxy.ServerConfig{Deny: []proxy.Rule{deny}}
	if err := cfg.Validate(); err != nil {
		return
	}
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := proxy.Accept(ctx, c, cfg)
	if err != nil {
		fmt.Println(err) // already answered with the protocol's refusal
		return
	}
	var d net.Dialer
	var up net.Conn
	for _, ip := range req.Addrs { // never Target: it could resolve elsewhere now
		if up, err = d.DialContext(ctx, "tcp", net.JoinHostPort(ip.String(), strconv.Itoa(req.Port))); err == nil {
			break
		}
	}
	if err != nil {
		req.Reply(c, err, nil) // refused, unreachable, timed out... in the protocol's words
		return
	}
	defer up.Close()
	if err := req.Reply(c, nil, up.LocalAddr()); err != nil {
		return
	}
	up.Write(req.Prefix)
	// ... relay c and up both ways, with half-close.
}
