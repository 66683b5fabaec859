package relay_test

import (
	"context"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"gnc/conn"
	"gnc/relay"
)

// TestServerNoLeaks runs a port-forwarding Server in this process, opens
// and closes 1,000 connections through it, and checks that goroutines and
// descriptors come back to their starting counts.
func TestServerNoLeaks(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var echoWG sync.WaitGroup
	echoWG.Add(1)
	go func() {
		defer echoWG.Done()
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			echoWG.Add(1)
			go func() {
				defer echoWG.Done()
				defer c.Close()
				// Wrapped so Go's own splice (and its pooled pipes, freed
				// only by the garbage collector) stays out of the count.
				io.Copy(struct{ io.Writer }{c}, struct{ io.Reader }{c})
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	defer func() { echo.Close(); echoWG.Wait() }()

	relay.DrainPipePool()
	g0, fd0 := runtime.NumGoroutine(), relay.OpenFDs(t)

	ctx := context.Background()
	from, err := conn.ListenTCP(ctx, "127.0.0.1", "0", conn.TCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(echo.Addr().String())
	to, err := conn.NewTCPDialer("127.0.0.1", port, conn.TCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := &relay.Server{From: from, To: to}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- s.Run(runCtx) }()

	addr := from.Addr().String()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			if i%2 == 0 {
				c.Write([]byte("ping"))
				c.(*net.TCPConn).CloseWrite()
				if b, _ := io.ReadAll(c); string(b) != "ping" {
					t.Errorf("echo %q", b)
				}
			}
		}()
	}
	wg.Wait()
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	relay.DrainPipePool()
	deadline := time.Now().Add(5 * time.Second)
	for (runtime.NumGoroutine() > g0 || relay.OpenFDs(t) > fd0) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling counts, bounded
	}
	if g, fd := runtime.NumGoroutine(), relay.OpenFDs(t); g > g0 || fd > fd0 {
		ents, _ := os.ReadDir("/proc/self/fd")
		var names []string
		for _, e := range ents {
			l, _ := os.Readlink("/proc/self/fd/" + e.Name())
			names = append(names, l)
		}
		t.Fatalf("goroutines %d -> %d, descriptors %d -> %d: %v", g0, g, fd0, fd, names)
	}
}
