package ui

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"

	"gnc/conn"
	"gnc/proxy"
)

// TestErrorLineProxy: an unreachable proxy is named, with its target,
// rather than the dial error inside it.
func TestErrorLineProxy(t *testing.T) {
	h := proxy.Hop{Kind: proxy.SOCKS5h, Addr: "127.0.0.1:1080", User: "u", Pass: "secret"}
	dial := &conn.DialError{Host: "127.0.0.1", Port: 1080, Attempts: []conn.Attempt{{Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}}}
	err := proxy.Unreachable(h, "example.com:443", dial)
	want := "proxy socks5h://127.0.0.1:1080 (with credentials): connect to example.com:443: proxy unreachable: connection refused"
	if got := errorLine(err); got != want {
		t.Errorf("errorLine = %q, want %q", got, want)
	}
	if got := hintOf(&proxy.Error{Hint: "a hint", Err: errors.New("x")}); got != "a hint" {
		t.Errorf("hintOf = %q", got)
	}
}
