//go:build unix

package conn

import (
	"io"
	"os"
)

// echoPipe is a pipe whose ends are non-blocking and registered with Go's
// poller (os.Pipe makes them so), so they can be spliced, and closed under
// a read or write in progress.
func echoPipe() (io.ReadCloser, io.WriteCloser, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	return r, w, nil
}
