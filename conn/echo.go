package conn

import (
	"context"
	"io"
	"sync"

	"gnc/relay"
)

// Echo is the endpoint "echo:": each conn sends back what it is sent, and
// ends its sending side once what is sent to it has ended and all of it
// has come back.
//
// Opened for a peer (relay.PeerOpener: a client accepted, a conn dialed),
// the echo's sending side is the peer's own: the engine copies what the
// peer sends straight back into it, in one direction, which on Linux is
// splice(2) from the socket into a pipe and back, with no process, no
// buffer and no descriptor of its own; at the end of the peer's data the
// echo half-closes the peer. A pairing's counts and hex dump then show
// the bytes once, as sent to the echo. Opened without a peer, a conn is
// the two ends of a pipe of gnc's own, whose fullness holds the sender
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

// OpenFor makes the echo of peer: see Echo. The peer is paired as it is.
func (Echo) OpenFor(ctx context.Context, peer relay.Conn) (client, opened relay.Conn, err error) {
	if err := ctx.Err(); err != nil {
		return peer, nil, err
	}
	return peer, &peerEcho{peer: peer}, nil
}

// peerEcho is the echo of a peer: it writes into the peer's own sending
// side and sends nothing of its own (its ReadHalf is nil, so the engine
// copies one direction only).
type peerEcho struct{ peer relay.Conn }

func (e *peerEcho) Read([]byte) (int, error) { return 0, io.EOF }
func (e *peerEcho) Write(p []byte) (int, error) {
	return e.WriteHalf().Write(p)
}

// ReadHalf is nil: what the echo sends goes out through WriteHalf.
func (e *peerEcho) ReadHalf() io.Reader { return nil }

// WriteHalf is the peer's sending side, as it is, so that the engine can
// splice the peer's socket into itself.
func (e *peerEcho) WriteHalf() io.Writer {
	if h, ok := e.peer.(relay.Halves); ok {
		return h.WriteHalf()
	}
	return e.peer
}

// CloseWrite half-closes the peer: the echo is over.
func (e *peerEcho) CloseWrite() error {
	if cw, ok := e.peer.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close does nothing: the peer is the pairing's other conn, which the
// engine closes, and that interrupts any write in progress.
func (e *peerEcho) Close() error { return nil }

// String is "echo:".
func (e *peerEcho) String() string { return "echo:" }

// echoConn is one echo without a peer: w is where bytes go in, r where
// they come out.
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
