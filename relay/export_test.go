package relay

import "golang.org/x/sys/unix"

// drainPipePool closes the pooled pipes, so tests can count descriptors.
func drainPipePool() {
	pipePool.Lock()
	defer pipePool.Unlock()
	for _, p := range pipePool.free {
		unix.Close(p.r)
		unix.Close(p.w)
	}
	pipePool.free = nil
}

// DrainPipePool is drainPipePool for the external tests.
var DrainPipePool = drainPipePool
