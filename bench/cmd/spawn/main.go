//go:build unix

// Command spawn measures what starting a process costs from Go, as gnc's
// -e does for each connection (syscall.ForkExec, then wait4): it runs
// PROG N times, P at a time, with stdin, stdout and stderr on /dev/null,
// and prints one JSON line:
//
//	spawn -n 2000 -p 2 [-prog /bin/cat]
//	{"starts":2000,"p":2,"elapsed_s":..,"rate":..,"self_cpu_us":..,"child_cpu_us":..,"cpu_us_per_start":..}
//
// self_cpu_us is this process's CPU time per start (fork, wait), and
// child_cpu_us the children's (exec, the dynamic loader, the program,
// exit), both from getrusage(2); cpu_us_per_start is their sum.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

func cpu(who int) time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	n := flag.Int("n", 2000, "processes to start")
	p := flag.Int("p", 2, "at a time")
	prog := flag.String("prog", "/bin/cat", "program to run")
	flag.Parse()
	if *n < 1 || *p < 1 {
		flag.Usage()
		os.Exit(2)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(1)
	}
	self0, child0 := cpu(syscall.RUSAGE_SELF), cpu(syscall.RUSAGE_CHILDREN)
	t0 := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	next := make(chan struct{}, *n)
	for range *n {
		next <- struct{}{}
	}
	close(next)
	for range *p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				fd := null.Fd()
				pid, err := syscall.ForkExec(*prog, []string{*prog}, &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{fd, fd, fd}})
				if err == nil {
					var ws syscall.WaitStatus
					for {
						_, err = syscall.Wait4(pid, &ws, 0, nil)
						if err != syscall.EINTR {
							break
						}
					}
				}
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	if failed != nil {
		fmt.Fprintln(os.Stderr, "spawn:", failed)
		os.Exit(1)
	}
	self, child := cpu(syscall.RUSAGE_SELF)-self0, cpu(syscall.RUSAGE_CHILDREN)-child0
	per := func(t time.Duration) float64 { return float64(t.Microseconds()) / float64(*n) }
	b, _ := json.Marshal(map[string]any{
		"starts": *n, "p": *p, "elapsed_s": d.Seconds(), "rate": float64(*n) / d.Seconds(),
		"self_cpu_us": per(self), "child_cpu_us": per(child), "cpu_us_per_start": per(self + child),
	})
	fmt.Println(string(b))
}
