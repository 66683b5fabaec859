//go:build !unix

package conn

import (
	"os"

	"golang.org/x/term"
)

// On Windows (and any other system that is not Unix) standard input and
// output are os.Stdin and os.Stdout, read and written as they are:
// nothing about them is changed, nothing is spliced, and their I/O
// cannot be interrupted, so a pairing that ends while a read of stdin is
// in progress finishes only when that read returns (a line typed, end of
// file), and shutdown does not wait for the -k stdin reader.

func isTerminal(fd int) bool {
	f := os.Stdin
	if fd == 1 {
		f = os.Stdout
	}
	return f != nil && term.IsTerminal(int(f.Fd()))
}

// openEnd returns os.Stdin (input) or os.Stdout, or nil when it is not
// there.
func openEnd(fd int, input bool) *end {
	f := os.Stdout
	if input {
		f = os.Stdin
	}
	if f == nil {
		return nil
	}
	e := &end{rw: f, tty: isTerminal(fd), cancel: func() {}, release: func() {}}
	// Closing the handle is the only way to let a reader see end of file.
	e.detach = f.Close
	return e
}
