//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package ui

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// PromptSecret writes prompt on the controlling terminal and reads a
// line typed there without echo. The terminal's settings are put back on
// every way out: the line read, an error, or a stop signal (Ctrl-C,
// SIGTERM, SIGHUP, SIGQUIT), which ends the prompt with a *SignalError.
// Only the terminal's echo changes meanwhile, never stdin's or stdout's
// descriptors. It returns ErrNoTerminal when stderr is not a terminal or
// there is no controlling terminal.
func PromptSecret(prompt string) (string, error) {
	if !term.IsTerminal(2) {
		return "", ErrNoTerminal
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", ErrNoTerminal
	}
	defer tty.Close()
	sc, err := tty.SyscallConn()
	if err != nil {
		return "", ErrNoTerminal
	}
	// Through Control, not Fd, which would make the descriptor blocking
	// and its reads impossible to end from here.
	var old *unix.Termios
	var gerr error
	sc.Control(func(fd uintptr) { old, gerr = unix.IoctlGetTermios(int(fd), ioctlReadTermios) })
	if gerr != nil {
		return "", ErrNoTerminal
	}
	set := func(t *unix.Termios) error {
		var serr error
		sc.Control(func(fd uintptr) { serr = unix.IoctlSetTermios(int(fd), ioctlWriteTermios, t) })
		return serr
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ISIG
	noEcho.Iflag |= unix.ICRNL
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := set(&noEcho); err != nil {
		return "", ErrNoTerminal
	}
	restore := sync.OnceFunc(func() {
		set(old)
		tty.WriteString("\n") // the typed line end was not echoed either
	})
	defer restore()
	if _, err := tty.WriteString(prompt); err != nil {
		return "", err
	}
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := readSecretLine(tty)
		done <- result{line, err}
	}()
	select {
	case r := <-done:
		return r.line, r.err
	case sig := <-sigs:
		restore()
		if tty.SetReadDeadline(time.Now()) == nil {
			<-done // the read ends at the deadline
		}
		return "", Signaled(sig)
	}
}
