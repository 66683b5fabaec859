//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package tty

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// makeInputRaw makes the terminal on fd deliver each keystroke at once,
// unechoed and unprocessed (cfmakeraw's input and local settings), for
// the line editor, but leaves output processing as it was: the peer's
// newlines still return the carriage, whether the same terminal is on
// stdout or another one is. The restore function is as MakeRaw's.
func makeInputRaw(fd int) (restore func() error, err error) {
	old, err := unix.IoctlGetTermios(fd, ioctlReadTermios)
	if err != nil {
		return nil, fmt.Errorf("reading the terminal's settings: %w", err)
	}
	saved := *old
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, ioctlWriteTermios, &raw); err != nil {
		return nil, fmt.Errorf("raw mode on the terminal: %w", err)
	}
	return onceFunc(func() error { return unix.IoctlSetTermios(fd, ioctlWriteTermios, &saved) }), nil
}

// LineEditing says whether LineEditor works on this system (it needs
// termios); where it does not, Start fails.
const LineEditing = true
