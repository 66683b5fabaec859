// Command echoload drives an echo server (bench/cmd/backend -mode echo),
// directly or through a relay, and checks every byte that comes back with
// SHA-256. It is bounded in count and time and prints one JSON line.
//
// Bulk mode (default): -clients clients at once, each sends -size bytes
// of its own random stream while reading the echo, then half-closes and
// reads to end of file.
//
//	echoload -addr 127.0.0.1:PORT -clients 300 -size 2M
//
// Churn mode (-idle N): one busy client connects and streams through the
// echo for -busy, then half-closes and reads the rest of the echo back;
// meanwhile N idle connections are opened and held, and another goroutine
// connects and closes a connection every -every. It reports whether the
// busy client's bytes all came back, and how many of the idle and churn
// connections failed (those may fail: the server under test is expected
// to refuse new clients, not to lose old ones).
//
//	echoload -addr 127.0.0.1:PORT -idle 150 -every 2ms -busy 6s
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "", "target HOST:PORT (required)")
	clients := flag.Int("clients", 300, "bulk mode: concurrent clients")
	sizeFlag := flag.String("size", "2M", "bytes each client sends (K, M, G suffixes)")
	idle := flag.Int("idle", 0, "churn mode: idle connections to hold")
	every := flag.Duration("every", 2*time.Millisecond, "churn mode: interval between connect/close")
	busy := flag.Duration("busy", 6*time.Second, "churn mode: how long the busy client streams")
	timeout := flag.Duration("timeout", 60*time.Second, "bound on the whole run")
	flag.Parse()
	size, err := parseSize(*sizeFlag)
	if *addr == "" || err != nil || *clients < 1 {
		flag.Usage()
		os.Exit(2)
	}
	deadline := time.Now().Add(*timeout)
	if *idle > 0 {
		churn(*addr, *idle, *every, *busy, deadline)
		return
	}
	bulk(*addr, *clients, size, deadline)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

func emit(v any) {
	b, _ := json.Marshal(v)
	fmt.Printf("%s\n", b)
}

// echoOnce sends size bytes of stream seed through c, or as many as it
// can until until if that is not zero, and checks the echo.
func echoOnce(c *net.TCPConn, seed uint64, size int64, until time.Time) error {
	sent := make(chan [32]byte, 1)
	werr := make(chan error, 1)
	go func() {
		h := sha256.New()
		var src io.Reader = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
		var err error
		if until.IsZero() {
			size, err = io.Copy(io.MultiWriter(c, h), io.LimitReader(src, size))
		} else {
			size = 0
			buf := make([]byte, 64<<10)
			for err == nil && time.Now().Before(until) {
				src.Read(buf)
				h.Write(buf)
				_, err = c.Write(buf)
				size += int64(len(buf))
			}
		}
		if err == nil {
			err = c.CloseWrite()
		}
		var s [32]byte
		copy(s[:], h.Sum(nil))
		sent <- s
		werr <- err
	}()
	h := sha256.New()
	n, rerr := io.Copy(h, c)
	s := <-sent
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("read after %d bytes: %w", n, rerr)
	}
	var got [32]byte
	copy(got[:], h.Sum(nil))
	if n != size || got != s {
		return fmt.Errorf("echo of %d bytes came back as %d bytes, sha256 match %v", size, n, got == s)
	}
	return nil
}

func dial(addr string, deadline time.Time) (*net.TCPConn, error) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(deadline)
	return c.(*net.TCPConn), nil
}

func bulk(addr string, clients int, size int64, deadline time.Time) {
	var wg sync.WaitGroup
	var failed atomic.Int64
	var mu sync.Mutex
	var first string
	t0 := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := func() error {
				c, err := dial(addr, deadline)
				if err != nil {
					return err
				}
				defer c.Close()
				return echoOnce(c, uint64(i), size, time.Time{})
			}()
			if err != nil {
				failed.Add(1)
				mu.Lock()
				if first == "" {
					first = err.Error()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	emit(map[string]any{"clients": clients, "size": size, "failed": failed.Load(), "first_error": first,
		"seconds": el.Seconds(), "mb_per_s": float64(2*size*int64(clients)) / el.Seconds() / 1e6})
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

func churn(addr string, idle int, every, busy time.Duration, deadline time.Time) {
	c, err := dial(addr, deadline)
	if err != nil {
		emit(map[string]any{"error": "busy: " + err.Error()})
		os.Exit(1)
	}
	defer c.Close()
	type result struct {
		err error
		el  time.Duration
	}
	done := make(chan result, 1)
	t0 := time.Now()
	go func() {
		err := echoOnce(c, 1, 0, time.Now().Add(busy))
		done <- result{err, time.Since(t0)}
	}()

	var held []*net.TCPConn
	idleFailed := 0
	for range idle {
		ic, err := dial(addr, deadline)
		if err != nil {
			idleFailed++
			continue
		}
		held = append(held, ic)
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	stop := make(chan struct{})
	var churned, churnFailed atomic.Int64
	var churnWG sync.WaitGroup
	churnWG.Add(1)
	go func() {
		defer churnWG.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			churned.Add(1)
			c, err := dial(addr, time.Now().Add(time.Second))
			if err != nil {
				churnFailed.Add(1)
				continue
			}
			c.Close()
		}
	}()
	r := <-done
	close(stop)
	churnWG.Wait()
	res := map[string]any{"idle": idle, "idle_failed": idleFailed, "busy_ok": r.err == nil, "seconds": r.el.Seconds(),
		"churned": churned.Load(), "churn_failed": churnFailed.Load()}
	if r.err != nil {
		res["busy_error"] = r.err.Error()
	}
	emit(res)
	if r.err != nil {
		os.Exit(1)
	}
}
