package conn

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"
)

// Grow raises a program's pipe to 1 MiB, for at most maxGrownPipes pipes
// at a time; closing a conn gives its share back.
func TestGrowBudget(t *testing.T) {
	e, err := NewExec(ExecOptions{Argv: []string{"cat"}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	size := func(c *execConn) int {
		rc, err := c.stdout.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		n := -1
		rc.Control(func(fd uintptr) { n, _ = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
		return n
	}
	var conns []*execConn
	for range maxGrownPipes + 2 {
		c, err := e.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ec := c.(*execConn)
		conns = append(conns, ec)
		ec.Grow(true)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
			c.Reap(true)
		}
	}()
	if size(conns[0]) != 1<<20 {
		t.Skipf("the system did not grow a pipe to 1 MiB (%d bytes): over the user's pipe memory?", size(conns[0]))
	}
	for i, c := range conns {
		if got := size(c); i < maxGrownPipes && got != 1<<20 || i >= maxGrownPipes && got >= 1<<20 {
			t.Errorf("conn %d: pipe of %d bytes; want 1 MiB for the first %d only", i, got, maxGrownPipes)
		}
	}
	conns[0].Close()
	last := conns[len(conns)-1]
	last.Grow(true)
	if got := size(last); got != 1<<20 {
		t.Errorf("after a close: pipe of %d bytes, want %d", got, 1<<20)
	}
	if n := grownPipes.Load(); n != maxGrownPipes {
		t.Errorf("grownPipes = %d, want %d", n, maxGrownPipes)
	}
}
