//go:build !linux

// Command zeros is the benchmarks' data producer; it needs Linux
// (vmsplice, raw write system calls), as the benchmarks do.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "zeros: the benchmarks run on Linux only")
	os.Exit(2)
}
