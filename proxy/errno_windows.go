package proxy

import (
	"errors"

	"golang.org/x/sys/windows"
)

// errnoRefusal classifies a dial's system error; Windows reports
// Winsock codes, not the POSIX ones syscall names.
func errnoRefusal(err error) (refusal, bool) {
	switch {
	case errors.Is(err, windows.WSAECONNREFUSED):
		return refRefused, true
	case errors.Is(err, windows.WSAENETUNREACH), errors.Is(err, windows.WSAENETDOWN):
		return refNetUnreach, true
	case errors.Is(err, windows.WSAEHOSTUNREACH), errors.Is(err, windows.WSAEHOSTDOWN):
		return refUnreachable, true
	case errors.Is(err, windows.WSAETIMEDOUT):
		return refTimeout, true
	}
	return 0, false
}
