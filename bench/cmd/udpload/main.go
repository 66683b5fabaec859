// Command udpload measures UDP relays on loopback for bench/udp.sh.
//
//	udpload -mode echo -addr 127.0.0.1:0
//	udpload -mode rate -addr 127.0.0.1:PORT -size 64 -step 2s
//	udpload -mode sessions -addr 127.0.0.1:PORT -n 1000
//
// Modes:
//
//	echo      a UDP echo server: every datagram goes back to its sender.
//	          It prints "LISTEN HOST:PORT" once bound.
//	rate      one client socket sends datagrams of -size bytes at a paced
//	          rate for -step and counts the echoes that come back (each
//	          datagram carries its step and sequence number, so a late echo
//	          of an earlier step, or two datagrams merged into one, do not
//	          count); it searches for the highest rate with less than
//	          -loss lost: doubling from -start until a step loses more,
//	          then bisecting. It prints one JSON line.
//	sessions  -n client sockets each send a datagram and wait for its
//	          echo (resending up to 3 times); it prints "READY {json}",
//	          holds them until stdin has a line or reaches EOF (or -hold),
//	          then each sends one more and waits for its echo, and prints
//	          the second round's JSON.
//
// Echo and rate exit when their stdin reaches EOF (unless -stdin=false),
// and every mode after -max, so a script that dies takes them down.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
)

func main() {
	mode := flag.String("mode", "rate", "echo, rate or sessions")
	addr := flag.String("addr", "127.0.0.1:0", "echo: listen address; rate, sessions: the relay's address")
	size := flag.Int("size", 64, "rate: datagram size, at least 8")
	step := flag.Duration("step", 2*time.Second, "rate: how long each rate is offered")
	loss := flag.Float64("loss", 0.01, "rate: the most loss a rate may show to pass")
	startRate := flag.Float64("start", 2000, "rate: first rate tried, datagrams/s")
	limit := flag.Float64("limit", 4e6, "rate: highest rate tried")
	bisect := flag.Int("bisect", 4, "rate: bisection steps after the first failure")
	n := flag.Int("n", 1000, "sessions: client sockets")
	hold := flag.Duration("hold", 5*time.Minute, "sessions: longest hold")
	maxDur := flag.Duration("max", 15*time.Minute, "exit after this long")
	watchStdin := flag.Bool("stdin", true, "echo, rate: exit when stdin reaches EOF")
	flag.Parse()
	time.AfterFunc(*maxDur, func() { fmt.Fprintln(os.Stderr, "udpload: -max reached"); os.Exit(1) })

	switch *mode {
	case "echo":
		if *watchStdin {
			go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
		}
		echo(*addr)
	case "rate":
		if *size < 8 {
			fail("-size must be at least 8")
		}
		if *watchStdin {
			go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
		}
		rate(*addr, *size, *step, *loss, *startRate, *limit, *bisect)
	case "sessions":
		sessions(*addr, *n, *hold)
	default:
		fail("-mode must be echo, rate or sessions")
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "udpload: "+format+"\n", args...)
	os.Exit(2)
}

// echo serves a UDP echo in batches (recvmmsg and sendmmsg), so that the
// backend costs the relays under test as little as possible.
func echo(addr string) {
	c, err := net.ListenPacket("udp4", addr)
	if err != nil {
		fail("%v", err)
	}
	c.(*net.UDPConn).SetReadBuffer(8 << 20)
	c.(*net.UDPConn).SetWriteBuffer(8 << 20)
	fmt.Printf("LISTEN %s\n", c.LocalAddr())
	os.Stdout.Sync()
	pc := ipv4.NewPacketConn(c)
	ms := make([]ipv4.Message, 64)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, 65536)}
	}
	out := make([]ipv4.Message, 64)
	for {
		k, err := pc.ReadBatch(ms, 0)
		if err != nil {
			fail("echo: %v", err)
		}
		for i := range k {
			out[i] = ipv4.Message{Buffers: [][]byte{ms[i].Buffers[0][:ms[i].N]}, Addr: ms[i].Addr}
		}
		for sent := 0; sent < k; {
			m, err := pc.WriteBatch(out[sent:k], 0)
			if err != nil {
				break // a client gone: drop the rest of the batch
			}
			sent += m
		}
	}
}

type stepResult struct {
	Rate float64 `json:"rate"`
	Sent int64   `json:"sent"`
	Got  int64   `json:"got"`
	Loss float64 `json:"loss"`
}

// rate runs the step search on one connected socket.
func rate(addr string, size int, step time.Duration, maxLoss, start, limit float64, bisect int) {
	raddr, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		fail("%v", err)
	}
	c, err := net.DialUDP("udp4", nil, raddr)
	if err != nil {
		fail("%v", err)
	}
	c.SetReadBuffer(8 << 20)
	c.SetWriteBuffer(8 << 20)

	var stepID atomic.Uint32
	var got atomic.Int64
	go func() {
		pc := ipv4.NewPacketConn(c)
		ms := make([]ipv4.Message, 64)
		for i := range ms {
			ms[i].Buffers = [][]byte{make([]byte, 65536)}
		}
		for {
			k, err := pc.ReadBatch(ms, 0)
			if err != nil {
				continue // ECONNREFUSED before the relay is up, say
			}
			cur := stepID.Load()
			for i := range k {
				b := ms[i].Buffers[0][:ms[i].N]
				// One datagram, of the size sent, of this step: two merged
				// into one (a stream in the path) count as lost.
				if len(b) == size && binary.BigEndian.Uint32(b) == cur {
					got.Add(1)
				}
			}
		}
	}()

	// Warm up: the relay's session (or process) for this client exists
	// before the first step is timed.
	stepID.Store(1)
	warm := make([]byte, size)
	binary.BigEndian.PutUint32(warm, 1)
	for t0 := time.Now(); got.Load() == 0; {
		if time.Since(t0) > 10*time.Second {
			fail("no echo from %s within 10s", addr)
		}
		c.Write(warm)
		time.Sleep(20 * time.Millisecond) // waiting for the first echo
	}
	time.Sleep(200 * time.Millisecond)

	runStep := func(r float64) stepResult {
		id := stepID.Add(1)
		got.Store(0)
		payload := make([]byte, size)
		binary.BigEndian.PutUint32(payload, id)
		pc := ipv4.NewPacketConn(c)
		batch := make([]ipv4.Message, 64)
		for i := range batch {
			batch[i].Buffers = [][]byte{payload}
		}
		var sent int64
		t0 := time.Now()
		for {
			el := time.Since(t0)
			if el >= step {
				break
			}
			due := int64(r * el.Seconds())
			for sent < due {
				k := int(min(due-sent, int64(len(batch))))
				m, err := pc.WriteBatch(batch[:k], 0)
				if err != nil {
					m = k // refused or full: the datagrams are lost all the same
				}
				sent += int64(m)
			}
			time.Sleep(200 * time.Microsecond) // pacing the offered load
		}
		time.Sleep(300 * time.Millisecond) // the last echoes' way back
		g := got.Load()
		res := stepResult{Rate: r, Sent: sent, Got: g}
		if sent > 0 {
			res.Loss = 1 - float64(g)/float64(sent)
		}
		stepID.Add(1) // late echoes of this step no longer count
		fmt.Fprintf(os.Stderr, "udpload: %.0f/s sent %d got %d loss %.4f\n", r, sent, g, res.Loss)
		time.Sleep(500 * time.Millisecond) // let a relay's backlog drain before the next step
		return res
	}

	var steps []stepResult
	var best *stepResult
	lo, hi := 0.0, 0.0
	for r := start; r <= limit; r *= 2 {
		s := runStep(r)
		steps = append(steps, s)
		if s.Loss >= maxLoss {
			hi = r
			break
		}
		best, lo = &steps[len(steps)-1], r
	}
	if hi > 0 && lo > 0 {
		for range bisect {
			mid := (lo + hi) / 2
			s := runStep(mid)
			steps = append(steps, s)
			if s.Loss < maxLoss {
				best, lo = &steps[len(steps)-1], mid
			} else {
				hi = mid
			}
		}
	}
	out := map[string]any{"steps": steps, "best": 0.0, "best_loss": 1.0, "size": size}
	if best != nil {
		out["best"], out["best_loss"] = best.Rate, best.Loss
	}
	j, _ := json.Marshal(out)
	fmt.Println(string(j))
}

// sessions opens n client sockets through the relay and checks each with
// an echo, twice.
func sessions(addr string, n int, hold time.Duration) {
	raddr, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		fail("%v", err)
	}
	conns := make([]*net.UDPConn, 0, n)
	for range n {
		c, err := net.DialUDP("udp4", nil, raddr)
		if err != nil {
			fail("socket %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	round := func(tag byte) (ok int) {
		var wg sync.WaitGroup
		var okN atomic.Int64
		sem := make(chan struct{}, 100)
		for i, c := range conns {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				msg := fmt.Appendf(nil, "%c%06d", tag, i)
				buf := make([]byte, 64)
				for range 3 {
					c.Write(msg)
					c.SetReadDeadline(time.Now().Add(2 * time.Second))
					k, err := c.Read(buf)
					if err == nil && string(buf[:k]) == string(msg) {
						okN.Add(1)
						return
					}
				}
			}()
		}
		wg.Wait()
		return int(okN.Load())
	}
	t0 := time.Now()
	ok := round('a')
	j, _ := json.Marshal(map[string]any{"n": n, "ok": ok, "seconds": time.Since(t0).Seconds()})
	fmt.Printf("READY %s\n", j)
	os.Stdout.Sync()
	done := make(chan struct{})
	go func() { bufio.NewReader(os.Stdin).ReadString('\n'); close(done) }()
	select {
	case <-done:
	case <-time.After(hold):
	}
	ok2 := round('b')
	j, _ = json.Marshal(map[string]any{"n": n, "ok": ok2})
	fmt.Printf("SECOND %s\n", j)
	for _, c := range conns {
		c.Close()
	}
}
