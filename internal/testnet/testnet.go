// Package testnet holds loopback helpers that the tests of several
// packages share.
package testnet

import (
	"net"
	"sync"
	"testing"
)

// ServeEach listens on 127.0.0.1 and runs handle on each connection in a
// goroutine of its own, closing the connection after; it returns the
// listener's HOST:PORT. When the test ends the listener closes and
// ServeEach waits for every handler, so none outlives the test.
func ServeEach(t testing.TB, handle func(c *net.TCPConn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				handle(c.(*net.TCPConn))
			})
		}
	})
	return l.Addr().String()
}
