//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris)

package ui

// PromptSecret would ask on the terminal; here it returns ErrNoTerminal,
// and the password comes from the environment instead.
func PromptSecret(prompt string) (string, error) { return "", ErrNoTerminal }
