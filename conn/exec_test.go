package conn

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"/bin/cat", []string{"/bin/cat"}},
		{"  grep  -i\thello\n", []string{"grep", "-i", "hello"}},
		{`grep -i 'hello world'`, []string{"grep", "-i", "hello world"}},
		{`echo "a b" c`, []string{"echo", "a b", "c"}},
		{`echo ''`, []string{"echo", ""}},
		{`echo "" x`, []string{"echo", "", "x"}},
		{`echo a\ b`, []string{"echo", "a b"}},
		{`echo \'x\'`, []string{"echo", "'x'"}},
		{`echo 'it'\''s'`, []string{"echo", "it's"}},
		{`echo "say \"hi\" \$HOME \\ \n"`, []string{"echo", `say "hi" $HOME \ \n`}},
		{`echo '$HOME *.go ~'`, []string{"echo", "$HOME *.go ~"}},
		{`echo $HOME *.go ~ a|b >c`, []string{"echo", "$HOME", "*.go", "~", "a|b", ">c"}},
		{"echo a\\\nb", []string{"echo", "ab"}},
		{"echo \"a\\\nb\"", []string{"echo", "ab"}},
		{`x"y"'z'w`, []string{"xyzw"}},
		{"ünï cødé", []string{"ünï", "cødé"}},
	} {
		got, err := SplitCommand(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, reason string }{
		{"", "empty"},
		{" \t\n", "empty"},
		{`echo 'x`, "single quote"},
		{`echo "x`, "double quote"},
		{`echo "x\"`, "double quote"},
		{`echo x\`, "backslash"},
		{"echo a\x00b", "NUL"},
	} {
		_, err := SplitCommand(tt.in)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.What != "command" || pe.Value != tt.in || !strings.Contains(pe.Reason, tt.reason) || pe.Hint == "" {
			t.Errorf("SplitCommand(%q): error %v, want a *ParseError about %q", tt.in, err, tt.reason)
		}
	}
}

// quoteWords quotes each word for a shell, so that SplitCommand reads the
// words back.
func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"/bin/cat", `grep -i 'hello world'`, `echo "a \"b\" \$c" d\ e`, "a\\\nb", `'x`, `"x\`, `x\`, "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := SplitCommand(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("SplitCommand(%q): %T %v, want a *ParseError with a reason", s, err, err)
			}
			return
		}
		if len(args) == 0 {
			t.Fatalf("SplitCommand(%q) = no words and no error", s)
		}
		for _, a := range args {
			if strings.IndexByte(a, 0) >= 0 {
				t.Fatalf("SplitCommand(%q): word %q holds a NUL", s, a)
			}
		}
		// Quoting the words and splitting again gives them back.
		again, err := SplitCommand(quoteWords(args))
		if err != nil || !slices.Equal(again, args) {
			t.Fatalf("SplitCommand(%q) = %q, but its quoted form reads back as %q, %v", s, args, again, err)
		}
		// Without quotes or backslashes, words are what strings.Fields
		// finds between blanks.
		if !strings.ContainsAny(s, `'"\`) {
			want := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
			if !slices.Equal(args, want) {
				t.Fatalf("SplitCommand(%q) = %q, want %q", s, args, want)
			}
		}
	})
}

func TestCutCommand(t *testing.T) {
	for _, tt := range []struct{ in, cmd, opts string }{
		{"./handler", "./handler", ""},
		{"./handler,stderr,pty", "./handler", "stderr,pty"},
		{`echo 'a,b',stderr`, `echo 'a,b'`, "stderr"},
		{`echo "a,b" "c\",d",env=A=1`, `echo "a,b" "c\",d"`, "env=A=1"},
		{`echo a\,b,dir=/tmp`, `echo a\,b`, "dir=/tmp"},
		{`echo 'x\',y`, `echo 'x\'`, "y"},
		{",stderr", "", "stderr"},
	} {
		cmd, opts, err := cutCommand(tt.in)
		if err != nil || cmd != tt.cmd || opts != tt.opts {
			t.Errorf("cutCommand(%q) = %q, %q, %v; want %q, %q", tt.in, cmd, opts, err, tt.cmd, tt.opts)
		}
	}
	for _, in := range []string{`echo 'a,b`, `echo "a,b`, `echo "a\"`} {
		if _, _, err := cutCommand(in); err == nil {
			t.Errorf("cutCommand(%q): no error for an unclosed quote", in)
		}
	}
}

func FuzzCutCommand(f *testing.F) {
	for _, s := range []string{"./handler,stderr", `echo 'a,b',pty`, `echo "a\",b",env=X=1`, `a\,b`, `'`, `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmd, opts, err := cutCommand(s)
		if err != nil {
			return
		}
		if cmd == s {
			if opts != "" {
				t.Fatalf("cutCommand(%q): options %q from a string that had no comma to cut at", s, opts)
			}
			return
		}
		if cmd+","+opts != s {
			t.Fatalf("cutCommand(%q) = %q, %q: not a cut of the input", s, cmd, opts)
		}
		// The command has no comma left to cut at.
		if c, o, err := cutCommand(cmd); err != nil || c != cmd || o != "" {
			t.Fatalf("cutCommand(%q) = %q, but that cuts again into %q, %q, %v", s, cmd, c, o, err)
		}
	})
}
