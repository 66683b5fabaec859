//go:build !unix

package ui

import "os"

// writeFull writes all of p to stderr; fd is always 2 here.
func writeFull(fd int, p []byte) (int, error) {
	return os.Stderr.Write(p)
}

// signalName is the signal's description: there are no SIG names here.
func signalName(s os.Signal) string { return s.String() }
