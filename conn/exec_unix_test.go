//go:build unix

package conn

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestParseExecEndpoint(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct{ in, name string }{
		{"exec:cat", "exec:cat"},
		{"EXEC:cat,stderr", "exec:cat"},
		{"system:cat", "exec:cat"},
		{`exec:echo 'a,b',env=A=1,env=B=2,dir=/`, `exec:echo 'a,b'`},
		{"exec:sh -i,pty", "exec:sh -i"},
	} {
		e, err := ParseEndpoint(ctx, tt.in, Defaults{})
		if err != nil {
			t.Errorf("ParseEndpoint(%q): %v", tt.in, err)
			continue
		}
		if e.String() != tt.name {
			t.Errorf("ParseEndpoint(%q) names itself %q, want %q", tt.in, e.String(), tt.name)
		}
		e.Close()
	}
	for _, tt := range []struct{ in, reason string }{
		{"exec:", "need a command"},
		{"exec:   ,stderr", "need a command"},
		{"exec:echo 'a,b", "not closed"},
		{"exec:echo a,b", `unknown option "b"`},
		{"exec:cat,stderr,pty", "exclude each other"},
		{"exec:cat,env=NOEQUALS", "KEY=VALUE"},
		{"exec:cat,env==x", "KEY=VALUE"},
		{"exec:cat,stderr=maybe", "takes no value"},
		{"echo:x", "takes no address"},
		{"echo:,bogus", `unknown option "bogus"`},
	} {
		e, err := ParseEndpoint(ctx, tt.in, Defaults{})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.What != "endpoint" || pe.Value != tt.in || !strings.Contains(pe.Reason, tt.reason) || pe.Hint == "" {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want a *ParseError naming the endpoint, about %q, with a hint", tt.in, e, err, tt.reason)
		}
		if e != nil {
			e.Close()
		}
	}
	_, err := ParseEndpoint(ctx, "exec:cat,dir=/nonexistent/dir", Defaults{})
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Errorf("a dir= that does not exist: %v, want a *FileError", err)
	}
	e, err := ParseEndpoint(ctx, "echo:", Defaults{})
	if err != nil || e.String() != "echo:" {
		t.Errorf(`ParseEndpoint("echo:") = %v, %v`, e, err)
	}
}

// addrConn is a peer with addresses and nothing to read or write.
type addrConn struct{ local, remote net.Addr }

func (addrConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (addrConn) Write(p []byte) (int, error) { return len(p), nil }
func (addrConn) Close() error                { return nil }
func (a addrConn) LocalAddr() net.Addr       { return a.local }
func (a addrConn) RemoteAddr() net.Addr      { return a.remote }

// The program's environment sets every key once: an inherited GNC_
// variable gives way to the connection's, and the user's env= settings
// (the last of each key) to nothing, as os/exec's deduplication did.
func TestExecEnviron(t *testing.T) {
	t.Setenv("GNC_REMOTE_ADDR", "stale")
	t.Setenv("GNCTEST_A", "inherited")
	e, err := NewExec(ExecOptions{Argv: []string{"true"}, Env: []string{"GNCTEST_A=1", "GNCTEST_B=x", "GNCTEST_A=2", "GNC_PROTO=mine"}})
	if err != nil {
		t.Fatal(err)
	}
	peer := addrConn{
		local:  &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9000},
		remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 40000},
	}
	env := e.environ(peer)
	got := map[string][]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = append(got[k], v)
	}
	for k, want := range map[string]string{
		"GNC_REMOTE_ADDR": "127.0.0.2", "GNC_REMOTE_PORT": "40000", "GNC_LOCAL_PORT": "9000",
		"NCAT_PROTO": "TCP", "GNC_PROTO": "mine", "GNCTEST_A": "2", "GNCTEST_B": "x",
	} {
		if v := got[k]; len(v) != 1 || v[0] != want {
			t.Errorf("%s = %q, want once %q", k, v, want)
		}
	}
	for k, v := range got {
		if len(v) != 1 {
			t.Errorf("%s set %d times: %q", k, len(v), v)
		}
	}
	if _, ok := got["PATH"]; !ok && os.Getenv("PATH") != "" {
		t.Error("PATH not inherited")
	}
}

// Both ways of keeping a started program (spawn's, with a pidfd on Linux,
// and startProcess's os.Process, the only one elsewhere) report how it
// ended, signal it while it runs, and do nothing to it once reaped.
func TestProcessKinds(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	fd := int(null.Fd())
	for name, start := range map[string]func(string, []string, spawnAttr) (process, error){"spawn": spawn, "startProcess": startProcess} {
		t.Run(name, func(t *testing.T) {
			a := spawnAttr{env: []string{"PATH=/usr/bin:/bin"}, fds: []int{fd, fd, fd}}
			p, err := start("/bin/sh", []string{"sh", "-c", "exit 3"}, a)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Wait(); got != "exit 3" {
				t.Errorf("exit 3: Wait = %q", got)
			}
			p.Signal(syscall.SIGKILL) // reaped: nothing to hit
			p, err = start("/bin/sh", []string{"sh", "-c", "exec sleep 30"}, a)
			if err != nil {
				t.Fatal(err)
			}
			p.Signal(syscall.SIGTERM)
			if got := p.Wait(); got != "killed by SIGTERM" {
				t.Errorf("SIGTERM: Wait = %q", got)
			}
			if _, err := start("/nonexistent/prog", []string{"prog"}, a); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("missing program: err = %v, want not exist", err)
			}
		})
	}
}
