package ui_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"gnc/ui"
)

// testFlags are like main.go's: boolean flags take no value, every other
// kind does.
var testFlags = []cli.Flag{
	&cli.BoolFlag{Name: "listen", Aliases: []string{"l"}},
	&cli.BoolFlag{Name: "keep-open", Aliases: []string{"k"}},
	&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}},
	&cli.BoolFlag{Name: "nodns", Aliases: []string{"n"}},
	&cli.BoolFlag{Name: "zero", Aliases: []string{"z"}},
	&cli.BoolFlag{Name: "4"},
	&cli.BoolFlag{Name: "6"},
	&cli.BoolFlag{Name: "N"},
	&cli.StringFlag{Name: "port", Aliases: []string{"p"}},
	&cli.StringFlag{Name: "source", Aliases: []string{"s"}},
	&cli.IntFlag{Name: "max-conns", Aliases: []string{"m"}},
	&cli.GenericFlag{Name: "wait", Aliases: []string{"w"}, Value: &ui.Duration{}},
	&cli.GenericFlag{Name: "idle-timeout", Aliases: []string{"i"}, Value: &ui.Duration{}},
	&cli.GenericFlag{Name: "q", Value: &ui.Duration{}},
	&cli.StringSliceFlag{Name: "allow"},
	&cli.BoolFlag{Name: "help", Aliases: []string{"h"}},
}

var testSpec = ui.Spec(testFlags...)

func TestSpec(t *testing.T) {
	want := map[string]bool{
		"listen": false, "l": false, "keep-open": false, "k": false, "verbose": false, "v": false,
		"nodns": false, "n": false, "zero": false, "z": false, "4": false, "6": false, "N": false,
		"port": true, "p": true, "source": true, "s": true, "max-conns": true, "m": true,
		"wait": true, "w": true, "idle-timeout": true, "i": true, "q": true, "allow": true,
		"help": false, "h": false,
	}
	if len(testSpec) != len(want) {
		t.Errorf("Spec has %d names, want %d: %v", len(testSpec), len(want), testSpec)
	}
	for name, takes := range want {
		got, ok := testSpec[name]
		if !ok || got.Value != takes || got.Once != (takes && name != "allow") {
			t.Errorf("Spec[%q] = %+v, %v; want Value %v, true", name, got, ok, takes)
		}
	}
	if testSpec["p"].Name != "port" || testSpec["port"].Name != "port" {
		t.Errorf("Spec names -p %q and --port %q, want both \"port\"", testSpec["p"].Name, testSpec["port"].Name)
	}
	if s := ui.Spec(); len(s) != 0 {
		t.Errorf("Spec() = %v, want empty", s)
	}
}

func TestReorder(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{nil, []string{"--"}},
		{[]string{"-lvnp", "4444"}, []string{"-l", "-v", "-n", "-p", "4444", "--"}},
		{[]string{"-vv"}, []string{"-v", "-v", "--"}},
		{[]string{"-p4444"}, []string{"-p", "4444", "--"}},
		// "-p=4444" drops the '=': the value is "4444".
		{[]string{"-p=4444"}, []string{"-p", "4444", "--"}},
		{[]string{"-p", "=4444"}, []string{"-p", "=4444", "--"}},
		{[]string{"-lp=9000"}, []string{"-l", "-p", "9000", "--"}},
		// Only the first '=' goes: "-p==1" is "-p =1", "-p=" an empty value.
		{[]string{"-p==1"}, []string{"-p", "=1", "--"}},
		{[]string{"-p="}, []string{"-p", "", "--"}},
		{[]string{"-pl"}, []string{"-p", "l", "--"}},
		{[]string{"-l", "9000", "-k"}, []string{"-l", "-k", "--", "9000"}},
		{[]string{"example.com", "80", "-v"}, []string{"-v", "--", "example.com", "80"}},
		{[]string{"-w", "3", "host", "80", "-q", "0.5"}, []string{"-w", "3", "-q", "0.5", "--", "host", "80"}},
		{[]string{"-nz", "host", "20-30", "80"}, []string{"-n", "-z", "--", "host", "20-30", "80"}},
		{[]string{"--"}, []string{"--"}},
		{[]string{"--", "-x"}, []string{"--", "-x"}},
		{[]string{"-v", "--", "-x", "-l", "--"}, []string{"-v", "--", "-x", "-l", "--"}},
		{[]string{"host", "--", "-v"}, []string{"--", "host", "-v"}},
		{[]string{"-"}, []string{"--", "-"}},
		{[]string{"-l", "-", "-v"}, []string{"-l", "-v", "--", "-"}},
		{[]string{""}, []string{"--", ""}},
		{[]string{"--port=80"}, []string{"--port=80", "--"}},
		{[]string{"--port", "80"}, []string{"--port", "80", "--"}},
		{[]string{"--port="}, []string{"--port=", "--"}},
		{[]string{"--port", "-1"}, []string{"--port", "-1", "--"}},
		{[]string{"--verbose", "x", "--keep-open"}, []string{"--verbose", "--keep-open", "--", "x"}},
		{[]string{"--allow", "10.0.0.0/8", "--allow=::1"}, []string{"--allow", "10.0.0.0/8", "--allow=::1", "--"}},
		{[]string{"--max-conns=3"}, []string{"--max-conns=3", "--"}},
		{[]string{"-m3"}, []string{"-m", "3", "--"}},
		{[]string{"-q", "-1"}, []string{"-q", "-1", "--"}},
		{[]string{"-q-1"}, []string{"-q", "-1", "--"}},
		{[]string{"-p", "--", "x", "-v"}, []string{"-p", "--", "-v", "--", "x"}}, // "--" is -p's value
		{[]string{"-4", "-6", "-N", "-h"}, []string{"-4", "-6", "-N", "-h", "--"}},
		{[]string{"-4N6"}, []string{"-4", "-N", "-6", "--"}},
		// A single dash before a known long name reads as that long flag,
		// as Go's flag package does.
		{[]string{"-listen"}, []string{"--listen", "--"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := ui.Reorder(tt.args, testSpec)
			if err != nil {
				t.Fatalf("Reorder(%q): %v", tt.args, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Reorder(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

func TestReorderDoesNotModifyArgs(t *testing.T) {
	args := []string{"-l", "9000", "-k", "--", "x"}
	orig := slices.Clone(args)
	if _, err := ui.Reorder(args, testSpec); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(args, orig) {
		t.Errorf("Reorder changed its argument: %q, was %q", args, orig)
	}
}

func TestReorderErrors(t *testing.T) {
	tests := []struct {
		args []string
		msg  string // substring of the message; empty: no error
	}{
		{[]string{"-x"}, "unknown flag -x"},
		{[]string{"-x", "host"}, "unknown flag -x"},
		{[]string{"-vx"}, "unknown flag -x in -vx"},
		{[]string{"host", "80", "-Z"}, "unknown flag -Z"},
		{[]string{"-L"}, "unknown flag -L"}, // flags are case-sensitive
		{[]string{"-lvnp4444x"}, ""},        // valid: "4444x" is -p's value
		{[]string{"--bogus"}, "unknown flag --bogus"},
		{[]string{"--bogus=1"}, "unknown flag --bogus"},
		{[]string{"--proxy-autn=user:secret"}, "unknown flag --proxy-autn"}, // a value may be a secret
		{[]string{"--Verbose"}, "unknown flag --Verbose"},
		{[]string{"--4"}, "unknown flag --4"}, // one-letter names take one dash
		{[]string{"--q", "1"}, "unknown flag --q"},
		{[]string{"--l"}, "unknown flag --l"},
		{[]string{"---v"}, "unknown flag ---v"},
		{[]string{"--=x"}, "unknown flag --"},
		{[]string{"--verbose=true"}, "takes no value"},
		{[]string{"--verbose="}, "takes no value"},
		{[]string{"-p"}, "needs a value"},
		{[]string{"-lp"}, "flag -p needs a value"},
		{[]string{"-l", "-w"}, "flag -w needs a value"},
		{[]string{"--port"}, "flag --port needs a value"},
		{[]string{"host", "--wait"}, "needs a value"},
		{[]string{"-é"}, "unknown flag -é"},
		{[]string{"-l", "--", "-x"}, ""}, // valid: "-x" is after "--"
		{[]string{"-l", "-", "-x"}, "unknown flag -x"},
		{[]string{"-l", "9000", "--nope", "--"}, "--nope"},
		{[]string{"-l", "-p", "1", "-p", "2"}, "flag -p given twice"},
		{[]string{"-p1", "--port=2"}, "flag --port given twice (as -p and --port)"},
		{[]string{"-m3", "-m", "4"}, "flag -m given twice"},
		{[]string{"-w", "1", "9000", "-w2"}, "flag -w given twice"},
		{[]string{"--allow", "::1", "--allow", "10.0.0.0/8", "-v", "-v"}, ""}, // lists and switches repeat
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := ui.Reorder(tt.args, testSpec)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Reorder(%q): %v, want success", tt.args, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Reorder(%q) = %q, want an error", tt.args, got)
			}
			var ue *ui.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("Reorder(%q): error %v is a %T, want *ui.UsageError", tt.args, err, err)
			}
			if ue.Hint == "" {
				t.Errorf("Reorder(%q): error %q has no hint", tt.args, err)
			}
			if !strings.Contains(ue.Msg, tt.msg) {
				t.Errorf("Reorder(%q): message %q, want it to contain %q", tt.args, ue.Msg, tt.msg)
			}
			if got != nil {
				t.Errorf("Reorder(%q) returned %q with its error", tt.args, got)
			}
		})
	}
}

func TestFirstPositional(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{nil, -1},
		{[]string{"-lvnp", "4444"}, -1},
		{[]string{"-lvnp", "4444", "x"}, 2},
		{[]string{"-vv", "host"}, 1},
		{[]string{"-p4444", "host"}, 1},
		{[]string{"-p=4444", "host"}, 1},
		{[]string{"-l", "9000", "-k"}, 1},
		{[]string{"example.com", "80", "-v"}, 0},
		{[]string{"relay", "-k"}, 0},
		{[]string{"-v", "relay", "-k"}, 1},
		{[]string{"-w", "3", "relay"}, 2},
		{[]string{"--"}, -1},
		{[]string{"--", "-x"}, 1},
		{[]string{"-v", "--", "relay"}, 2},
		{[]string{"-"}, 0},
		{[]string{"-l", "-"}, 1},
		{[]string{""}, 0},
		{[]string{"--port=80", "x"}, 1},
		{[]string{"--port", "80", "x"}, 2},
		{[]string{"--port", "80"}, -1},
		{[]string{"--port"}, -1},
		{[]string{"--verbose", "x"}, 1},
		{[]string{"-q", "-1", "host"}, 2},
		{[]string{"-p", "--", "x"}, 2},
		{[]string{"-pl", "x"}, 1},
		{[]string{"-lp", "9000", "x"}, 2},
		// Unknown flags are taken for boolean ones; Reorder rejects them.
		{[]string{"-x", "y"}, 1},
		{[]string{"--bogus", "y"}, 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if got := ui.FirstPositional(tt.args, testSpec); got != tt.want {
				t.Errorf("FirstPositional(%q) = %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}

// positionals is a reference model of the positional arguments of args,
// in order: anything after "--", "-", and every argument that is neither
// a flag nor a flag's value.
func positionals(args []string, spec ui.FlagSpec) []string {
	var pos []string
	value := false // the next argument is a flag's value
	for i, a := range args {
		switch {
		case value:
			value = false
		case a == "--":
			return append(pos, args[i+1:]...)
		case strings.HasPrefix(a, "--"):
			name, _, has := strings.Cut(a[2:], "=")
			value = spec[name].Value && !has
		case strings.HasPrefix(a, "-") && a != "-":
			// The first letter taking a value ends the cluster; it takes
			// the next argument when it is the cluster's last byte.
			for j := 1; j < len(a); j++ {
				if spec[a[j:j+1]].Value {
					value = j == len(a)-1
					break
				}
			}
		default:
			pos = append(pos, a)
		}
	}
	return pos
}

// flagSection walks Reorder's output over its flags, which it writes one
// per argument ("-x" or "--name[=value]"), each followed by its value if
// it takes one, and returns the index of the "--" that ends them.
func flagSection(t *testing.T, out []string, spec ui.FlagSpec) int {
	t.Helper()
	i := 0
	for i < len(out) {
		a := out[i]
		var takes, ok bool
		switch {
		case a == "--":
			return i
		case strings.HasPrefix(a, "--"):
			name, _, has := strings.Cut(a[2:], "=")
			var fa ui.FlagArg
			fa, ok = spec[name]
			if !ok || len(name) < 2 {
				t.Fatalf("output %q: unknown long flag %q at %d", out, a, i)
			}
			takes = fa.Value
			takes = takes && !has
		case len(a) == 2 && a[0] == '-':
			var fa ui.FlagArg
			fa, ok = spec[a[1:]]
			takes = fa.Value
			if !ok {
				t.Fatalf("output %q: unknown flag %q at %d", out, a, i)
			}
		default:
			t.Fatalf("output %q: %q at %d is not a single flag", out, a, i)
		}
		i++
		if takes {
			if i >= len(out) {
				t.Fatalf("output %q: flag %q has no value", out, a)
			}
			i++
		}
	}
	t.Fatalf("output %q has no \"--\" after its flags", out)
	return -1
}

func FuzzReorder(f *testing.F) {
	for _, s := range []string{
		"-lvnp 4444", "-vv", "-p4444", "-p=4444", "-l 9000 -k", "-- -x", "-", "--port=80 host 80",
		"--port 80", "-x", "--bogus", "-p", "-q -1", "host 80 -v -w 3", "-p -- x -v", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, " ")
		in := slices.Clone(args)
		out, err := ui.Reorder(args, testSpec)
		if !slices.Equal(args, in) {
			t.Fatalf("Reorder(%q) changed its argument to %q", in, args)
		}
		fp := ui.FirstPositional(args, testSpec)
		if err != nil {
			var ue *ui.UsageError
			if !errors.As(err, &ue) || ue.Msg == "" || ue.Hint == "" {
				t.Fatalf("Reorder(%q): bad error %v (%T)", args, err, err)
			}
			if out != nil {
				t.Fatalf("Reorder(%q) returned %q with error %v", args, out, err)
			}
			return
		}
		b := flagSection(t, out, testSpec)
		pos := out[b+1:]
		if want := positionals(args, testSpec); !slices.Equal(pos, want) {
			t.Fatalf("Reorder(%q) = %q: positionals %q, want %q", args, out, pos, want)
		}
		switch {
		case len(pos) == 0 && fp != -1:
			t.Fatalf("Reorder(%q) = %q has no positional, but FirstPositional = %d", args, out, fp)
		case len(pos) > 0 && (fp < 0 || fp >= len(args) || args[fp] != pos[0]):
			t.Fatalf("Reorder(%q) = %q: FirstPositional = %d does not find %q", args, out, fp, pos[0])
		}
		// The output is already in order: reordering it changes nothing.
		again, err := ui.Reorder(out, testSpec)
		if err != nil || !slices.Equal(again, out) {
			t.Fatalf("Reorder(%q) = %q, but reordering that gives %q, %v", args, out, again, err)
		}
		if want := b + 1; len(pos) > 0 && ui.FirstPositional(out, testSpec) != want {
			t.Fatalf("FirstPositional(%q) = %d, want %d", out, ui.FirstPositional(out, testSpec), want)
		}
	})
}
