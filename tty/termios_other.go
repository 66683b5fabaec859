//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris)

package tty

import (
	"errors"
	"runtime"
)

// On Windows (and the other systems without termios) the line editor is
// not there: x/term's MakeRaw would give raw keystrokes, but the console
// would also have to be switched to VT output for the editor's redraws,
// which is not done. MakeRaw, for --raw, works wherever x/term's does.

// errNoLineEditing is what LineEditor.Start returns here.
var errNoLineEditing = errors.New("line editing is not supported on " + runtime.GOOS)

func makeInputRaw(fd int) (restore func() error, err error) { return nil, errNoLineEditing }

// LineEditing says whether LineEditor works on this system (it needs
// termios); where it does not, Start fails.
const LineEditing = false
