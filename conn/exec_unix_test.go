//go:build unix

package conn

import (
	"context"
	"errors"
	"strings"
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
