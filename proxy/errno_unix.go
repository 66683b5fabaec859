//go:build unix

package proxy

import (
	"errors"
	"syscall"
)

// errnoRefusal classifies a dial's system error.
func errnoRefusal(err error) (refusal, bool) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return refRefused, true
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.ENETDOWN):
		return refNetUnreach, true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return refUnreachable, true
	case errors.Is(err, syscall.ETIMEDOUT):
		return refTimeout, true
	}
	return 0, false
}
