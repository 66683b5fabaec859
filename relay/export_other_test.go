//go:build !linux

package relay

// drainPipePool has nothing to drain: only Linux pools pipes.
func drainPipePool() {}
