package ui

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// FlagSpec tells the argument reorderer which flags exist, by every name
// (without dashes).
type FlagSpec map[string]FlagArg

// FlagArg is what the reorderer knows of one flag.
type FlagArg struct {
	// Value is set for flags that take a value.
	Value bool
	// Once is set for value flags that hold a single value, so that
	// giving one twice ("-p 1 -p 2") is a mistake rather than a silent
	// choice of the last.
	Once bool
	// Name is the flag's first name, shared by its aliases.
	Name string
	// Optional, for a switch, names the hidden flag that takes its value
	// when one is given with "=": "--progress=always" reads as
	// "--progress --progress-when=always".
	Optional string
}

// WithOptional gives switch name an optional value, carried by the
// hidden flag hidden (see FlagArg.Optional).
func (s FlagSpec) WithOptional(name, hidden string) FlagSpec {
	for n, a := range s {
		if a.Name == name {
			a.Optional = hidden
			s[n] = a
		}
	}
	return s
}

// Spec builds a FlagSpec from urfave/cli flags: boolean flags take no
// value, every other kind does, and only list flags may be repeated.
func Spec(flags ...cli.Flag) FlagSpec {
	s := FlagSpec{}
	for _, f := range flags {
		var a FlagArg
		switch f.(type) {
		case *cli.BoolFlag:
		case *cli.StringSliceFlag, *cli.IntSliceFlag, *cli.Int64SliceFlag, *cli.Float64SliceFlag, *cli.UintSliceFlag, *cli.Uint64SliceFlag:
			a.Value = true
		default:
			a.Value, a.Once = true, true
		}
		a.Name = f.Names()[0]
		for _, n := range f.Names() {
			s[n] = a
		}
	}
	return s
}

// dash spells a flag name as typed: "-p" or "--port".
func dash(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

const flagsHint = `"gnc --help" lists the flags; put "--" before an argument that starts with "-"`

// Reorder puts flags before positional arguments, as urfave/cli needs
// (it stops at the first positional), so that "gnc -l 9000 -k" and
// "gnc example.com 80 -v" work as Linux nc users expect. It splits
// clustered short flags ("-lvnp 4444" is "-l -v -n -p 4444", "-vv" is
// "-v -v", "-p4444" is "-p 4444"), and ends the flags with "--" so that a
// positional "-" (stdio) or anything after the user's own "--" stays
// positional. A flag it does not know is a usage error, never an argument.
func Reorder(args []string, spec FlagSpec) ([]string, error) {
	var flags, pos []string
	given := map[string]string{} // a single-value flag's name -> how it was first written
	seen := func(name string) error {
		a := spec[name]
		if !a.Once {
			return nil
		}
		if first, dup := given[a.Name]; dup {
			if first == dash(name) {
				return Usagef(flagsHint, "flag %s given twice", first)
			}
			return Usagef(flagsHint, "flag %s given twice (as %s and %s)", dash(a.Name), first, dash(name))
		}
		given[a.Name] = dash(name)
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			fa, ok := spec[name]
			if !ok || len(name) < 2 {
				// Without its value: "--proxy-autn=user:secret" may hold
				// a secret that was meant for a flag.
				return nil, Usagef(flagsHint, "unknown flag --%s", name)
			}
			if err := seen(name); err != nil {
				return nil, err
			}
			takes := fa.Value
			if !takes && hasValue && fa.Optional != "" {
				_, v, _ := strings.Cut(a, "=")
				flags = append(flags, "--"+name, "--"+fa.Optional+"="+v)
				continue
			}
			flags = append(flags, a)
			if takes && !hasValue {
				if i+1 >= len(args) {
					return nil, Usagef(flagsHint, "flag %s needs a value", a)
				}
				i++
				flags = append(flags, args[i])
			} else if !takes && hasValue {
				return nil, Usagef(flagsHint, "flag --%s takes no value", name)
			}
		case len(a) > 2 && a[0] == '-' && isLong(spec, a[1:]):
			// "-listen", as Go programs accept: a known long name wins over
			// a cluster of short flags.
			args = append(append(append([]string{}, args[:i]...), "-"+a), args[i+1:]...)
			i--
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				name := a[j : j+1]
				fa, ok := spec[name]
				if !ok {
					if j == 1 {
						return nil, Usagef(flagsHint, "unknown flag %s", a)
					}
					return nil, Usagef(flagsHint, "unknown flag -%s in %s", name, a)
				}
				if err := seen(name); err != nil {
					return nil, err
				}
				takes := fa.Value
				flags = append(flags, "-"+name)
				if takes {
					if rest := a[j+1:]; rest != "" {
						flags = append(flags, strings.TrimPrefix(rest, "="))
					} else if i+1 < len(args) {
						i++
						flags = append(flags, args[i])
					} else {
						return nil, Usagef(flagsHint, "flag -%s needs a value", name)
					}
					break
				}
			}
		default:
			pos = append(pos, a)
		}
	}
	return append(append(flags, "--"), pos...), nil
}

// FirstPositional returns the index in args of the first argument that is
// neither a flag nor a flag's value, or -1.
func FirstPositional(args []string, spec FlagSpec) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return i + 1
			}
			return -1
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			if spec[name].Value && !hasValue {
				i++
			}
		case len(a) > 2 && a[0] == '-' && isLong(spec, a[1:]):
			if spec[a[1:]].Value {
				i++
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				if spec[a[j:j+1]].Value {
					if j == len(a)-1 {
						i++
					}
					break
				}
			}
		default:
			return i
		}
	}
	return -1
}

// isLong reports whether s (a flag without its dash, perhaps with
// "=value") names a long flag.
func isLong(spec FlagSpec, s string) bool {
	name, _, _ := strings.Cut(s, "=")
	_, ok := spec[name]
	return ok && len(name) > 1
}
