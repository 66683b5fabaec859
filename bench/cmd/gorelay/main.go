// Command gorelay is the naive Go relay used as a baseline by bench/relay.sh:
// net.Listen, and per accepted connection a net.Dial to the target plus two
// io.Copy goroutines that half-close (CloseWrite) the other side at EOF.
//
//	gorelay -l 127.0.0.1:PORT -t 127.0.0.1:TARGETPORT
//
// It prints "LISTEN HOST:PORT" when ready and exits after -max.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"
)

func main() {
	listen := flag.String("l", "127.0.0.1:0", "listen address")
	target := flag.String("t", "", "target address")
	maxDur := flag.Duration("max", 30*time.Minute, "exit after this long")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("LISTEN %s\n", ln.Addr())
	time.AfterFunc(*maxDur, func() { os.Exit(0) })
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Print(err) // e.g. EMFILE; back off instead of spinning
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go relay(c.(*net.TCPConn), *target)
	}
}

func relay(c *net.TCPConn, target string) {
	defer c.Close()
	t, err := net.Dial("tcp", target)
	if err != nil {
		log.Print(err)
		return
	}
	defer t.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(t, c)
		t.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(c, t)
	c.CloseWrite()
	<-done
}
