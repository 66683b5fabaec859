package conn_test

import (
	"context"
	"gnc/internal/testnet"
	"strconv"
	"strings"
	"testing"
	"time"

	"gnc/conn"
	"gnc/proxy"
)

// refusingPort returns a loopback port that refuses connections: a socket
// is bound to it but never listens, so nobody else can take the port
// while the test uses it.
func refusingPort(t *testing.T) string {
	t.Helper()
	return strconv.Itoa(testnet.ClosedPort(t))
}

// TestProxyScan: through a proxy a refused port is closed, an open one
// open; an unreachable proxy is one error for the whole scan.
func TestProxyScan(t *testing.T) {
	open := echoTarget(t)
	closed := refusingPort(t)
	addr, _ := proxyRelay(t, "proxy", conn.Defaults{})
	po, _ := strconv.Atoi(open)
	pc, _ := strconv.Atoi(closed)
	d := &conn.TCPDialer{Host: "localhost", Timeout: 5 * time.Second}
	d.SetProxies([]proxy.Hop{hop(t, "socks5h://"+addr)})
	var got []string
	n, err := conn.Scan(context.Background(), d, []int{po, pc}, 4, nil, func(r conn.ScanResult) {
		got = append(got, strconv.Itoa(r.Port)+"="+strconv.FormatBool(r.Open))
	})
	if err != nil || n != 1 || strings.Join(got, " ") != open+"=true "+closed+"=false" {
		t.Fatalf("scan: %d open, %v, %q", n, err, got)
	}
	d.SetProxies([]proxy.Hop{hop(t, "socks5h://127.0.0.1:"+closed)})
	got = nil
	_, err = conn.Scan(context.Background(), d, []int{po, pc, po + 1}, 4, nil, func(r conn.ScanResult) { got = append(got, strconv.Itoa(r.Port)) })
	if err == nil || !strings.Contains(err.Error(), "proxy unreachable") || len(got) != 0 {
		t.Fatalf("scan through a dead proxy: %v, reported %q", err, got)
	}
}
