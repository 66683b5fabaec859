package tty

import (
	"fmt"
	"sync"

	"golang.org/x/term"
)

// MakeRaw puts the terminal on fd in raw mode, as cfmakeraw(3) does, for
// --raw: every keystroke reaches gnc at once and unchanged (Ctrl-C, Ctrl-Z
// and Ctrl-\ included, as no signal is made of them), nothing is echoed,
// and output is not processed, so the bytes a remote pty sends reach the
// terminal as they are. On Windows fd is the console handle.
//
// The returned function puts back the settings fd had. It may be called
// any number of times, from any goroutine (a signal handler's and a
// deferred call at once): the first call restores, later ones return
// what it returned.
func MakeRaw(fd int) (restore func() error, err error) {
	st, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("raw mode on the terminal: %w", err)
	}
	return onceFunc(func() error { return term.Restore(fd, st) }), nil
}

// onceFunc returns a function that runs f the first time it is called,
// and returns f's result every time.
func onceFunc(f func() error) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { err = f() })
		return err
	}
}
