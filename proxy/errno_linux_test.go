package proxy

import (
	"gnc/internal/testnet"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// closedPort returns 127.0.0.1:PORT of a socket bound but never
// listening, so a connect to it is refused and no one else can take it.
func closedPort(t *testing.T) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(testnet.ClosedPort(t))
}

func TestDialUnreachable(t *testing.T) {
	addr := closedPort(t)
	h := Hop{Kind: SOCKS5h, Addr: addr}
	h, _ = h.WithAuth(testUser, testPass)
	_, _, err := Dial(ctx5(t), &net.Dialer{}, []Hop{h}, "example.com:443", nil)
	want := "proxy socks5h://" + addr + " (with credentials): connect to example.com:443: proxy unreachable: connection refused"
	if got := clean(t, err); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, _, err := Dial(ctx5(t), &net.Dialer{}, nil, "example.com:443", nil); err == nil {
		t.Error("empty chain dialed")
	}
}

func TestReplyMappingErrno(t *testing.T) {
	var d net.Dialer
	_, refused := d.DialContext(ctx5(t), "tcp", closedPort(t))
	if refused == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	op := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}
	for _, tc := range []struct {
		err    error
		socks5 byte
		status int
		reason string
	}{
		{refused, 5, 502, "connection refused"},
		{op(syscall.ENETUNREACH), 3, 502, "network is unreachable"},
		{op(syscall.EHOSTUNREACH), 4, 502, "no route to host"},
		{op(syscall.ETIMEDOUT), 4, 504, "connection timed out"},
	} {
		for _, p := range []Kind{SOCKS5h, SOCKS4a, HTTP} {
			client, server := tcpPair(t)
			r := &Request{Proto: p, Target: "example.com:443", Port: 443}
			want := map[Kind][]byte{
				SOCKS5h: socks5Failure(tc.socks5),
				SOCKS4a: socks4Failure,
				HTTP:    httpResponse(tc.status, "connect to example.com:443: "+tc.reason+"\n"),
			}[p]
			expectReply(t, r, client, server, tc.err, nil, want)
		}
	}
}
