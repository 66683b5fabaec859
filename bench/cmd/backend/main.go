// Command backend is a tiny loopback TCP server for bench/cmd/loadgen and
// bench/relay.sh.
//
//	backend -addr 127.0.0.1:0 -mode reply -resp 64
//	backend -addr 127.0.0.1:0 -mode echo
//
// When it is listening it prints "LISTEN HOST:PORT" on stdout.
//
// Modes:
//
//	reply  read the request until EOF (or, with -req N > 0, until N bytes
//	       have arrived), then write -resp bytes and close
//	echo   echo everything back; when the read side sees EOF, half-close
//	       (CloseWrite) and close
//
// It runs a goroutine per connection with a small buffer, so thousands of idle
// connections stay cheap. It is bounded: it exits when its stdin reaches EOF
// (so a script that dies takes it down; pass -stdin=false to disable) or after
// -max.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	mode := flag.String("mode", "reply", "reply or echo")
	resp := flag.Int("resp", 64, "reply mode: bytes to send after the request's EOF")
	req := flag.Int("req", 0, "reply mode: reply once this many bytes arrived (0: wait for EOF)")
	maxDur := flag.Duration("max", 10*time.Minute, "exit after this long")
	watchStdin := flag.Bool("stdin", true, "exit when stdin reaches EOF")
	flag.Parse()

	var handle func(*net.TCPConn)
	switch *mode {
	case "reply":
		payload := bytes.Repeat([]byte{'r'}, *resp)
		handle = func(c *net.TCPConn) { reply(c, payload, *req) }
	case "echo":
		handle = echo
	default:
		fmt.Fprintln(os.Stderr, "backend: -mode must be reply or echo")
		os.Exit(2)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
	fmt.Printf("LISTEN %s\n", ln.Addr())

	if *watchStdin {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}()
	}
	time.AfterFunc(*maxDur, func() { os.Exit(0) })

	tl := ln.(*net.TCPListener)
	for {
		c, err := tl.AcceptTCP()
		if err != nil {
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			fmt.Fprintln(os.Stderr, "backend: accept:", err)
			os.Exit(1)
		}
		go handle(c)
	}
}

// reply drains the request until EOF (or until want > 0 bytes arrived), then
// writes payload and closes.
func reply(c *net.TCPConn, payload []byte, want int) {
	defer c.Close()
	var small [512]byte
	buf := small[:]
	var big *[]byte
	got := 0
	for {
		n, err := c.Read(buf)
		got += n
		if err != nil || (want > 0 && got >= want) {
			break
		}
		if n == len(buf) && big == nil { // a large request: use a bigger buffer
			big = bufPool.Get().(*[]byte)
			buf = *big
		}
	}
	if big != nil {
		bufPool.Put(big)
	}
	c.Write(payload)
}

// echo copies the connection to itself and half-closes after EOF. It starts
// with a small buffer so idle connections cost little memory.
func echo(c *net.TCPConn) {
	defer c.Close()
	var small [512]byte
	buf := small[:]
	var big *[]byte
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			if err == io.EOF {
				c.CloseWrite()
			}
			break
		}
		if n == len(buf) && big == nil {
			big = bufPool.Get().(*[]byte)
			buf = *big
		}
	}
	if big != nil {
		bufPool.Put(big)
	}
}
