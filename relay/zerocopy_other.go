//go:build !linux

package relay

import "syscall"

// Without Linux's splice(2) every descriptor is kindOther, so every
// direction takes the buffered route.
func fdOf(x any, forWrite bool) rawFD { return rawFD{} }

// splice is never routed to here; if it were, the buffered route would
// take over.
func (c *copier) splice(dst rawFD, fin, bulk bool) error { return errNoPipe }

// waitReadable is never asked for: no source is a kindSocket here.
func waitReadable(rc syscall.RawConn) error { return nil }
