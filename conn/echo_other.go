//go:build !unix

package conn

import "io"

// echoPipe is an in-memory pipe where the system's pipes cannot be closed
// under a read in progress: a write waits until the echo's reader has
// taken it, which is the back-pressure a full pipe gives.
func echoPipe() (io.ReadCloser, io.WriteCloser, error) {
	r, w := io.Pipe()
	return r, w, nil
}
