package ui

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// FlagSpec tells the argument reorderer which flags exist and which take a
// value, by every name (without dashes).
type FlagSpec map[string]bool

// Spec builds a FlagSpec from urfave/cli flags: boolean flags take no
// value, every other kind does.
func Spec(flags ...cli.Flag) FlagSpec {
	s := FlagSpec{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			s[n] = !isBool
		}
	}
	return s
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
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			takes, ok := spec[name]
			if !ok || len(name) < 2 {
				return nil, Usagef(flagsHint, "unknown flag %s", a)
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
				takes, ok := spec[name]
				if !ok {
					if j == 1 {
						return nil, Usagef(flagsHint, "unknown flag %s", a)
					}
					return nil, Usagef(flagsHint, "unknown flag -%s in %s", name, a)
				}
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
			if spec[name] && !hasValue {
				i++
			}
		case len(a) > 2 && a[0] == '-' && isLong(spec, a[1:]):
			if spec[a[1:]] {
				i++
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				if spec[a[j:j+1]] {
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
