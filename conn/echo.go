package conn

import (
	"context"
	"io"
	"sync"

	"gnc/relay"
)

// Echo is the endpoint "echo:": each conn sends back what it is sent, and
// ends its sending side once what is sent to it has ended and all of it
// has come back. A conn is the two ends of a pipe of gnc's own: what the
// engine writes into it comes out where the engine reads, so on Linux the
// kernel splices every byte from the client's socket through the pipe and
// back without gnc copying it, and a pipe that is full holds the client
// back as a slow echo would.
type Echo struct{}

// String is "echo:".
func (Echo) String() string { return "echo:" }

// Close does nothing: the endpoint holds nothing between conns.
func (Echo) Close() error { return nil }

// Open makes a fresh echo conn.
func (Echo) Open(ctx context.Context) (relay.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, w, err := echoPipe()
	if err != nil {
		return nil, err
	}
	return &echoConn{r: r, w: w}, nil
}

// echoConn is one echo: w is where bytes go in, r where they come out.
type echoConn struct {
	r         io.ReadCloser
	w         io.WriteCloser
	cwOnce    sync.Once
	closeOnce sync.Once
}

func (c *echoConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *echoConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// ReadHalf is the pipe's read end, as it is, so that it can be spliced.
func (c *echoConn) ReadHalf() io.Reader { return c.r }

// WriteHalf is the pipe's write end, as it is.
func (c *echoConn) WriteHalf() io.Writer { return c.w }

// String is "echo:".
func (c *echoConn) String() string { return "echo:" }

// CloseWrite closes the pipe's write end: the read end then reaches end of
// file after the last byte, and the engine half-closes the client.
func (c *echoConn) CloseWrite() error {
	var err error
	c.cwOnce.Do(func() { err = c.w.Close() })
	return err
}

// Close closes both ends, interrupting any I/O on them.
func (c *echoConn) Close() error {
	c.closeOnce.Do(func() {
		c.CloseWrite()
		c.r.Close()
	})
	return nil
}

func openEcho(_ context.Context, addr string, _ options, _ Defaults) (relay.Endpoint, error) {
	if addr != "" {
		return nil, syntaxf("echo: takes no address")
	}
	return Echo{}, nil
}
