//go:build !unix

package conn

import (
	"context"
	"errors"

	"gnc/relay"
)

// execPrepare refuses: gnc runs programs on Unix only, where a child's
// pipes can be polled and closed under a read in progress, and signalled
// to end.
func execPrepare(ExecOptions) error {
	return &ParseError{What: "command", Reason: "running a program for a connection (-e, -c, exec:) needs a Unix system", Hint: "run gnc on Linux, macOS or a BSD for this"}
}

func (e *Exec) start(ctx context.Context, peer relay.Conn) (relay.Conn, error) {
	return nil, errors.New("exec: not supported on this system")
}

// execConn is never made here.
type execConn struct{}

// Reap has no process to wait for.
func (*execConn) Reap(bool) string { return "" }
