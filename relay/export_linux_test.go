package relay

// drainPipePool closes the pooled pipes, so tests can count descriptors.
func drainPipePool() {
	pipePool.Lock()
	defer pipePool.Unlock()
	for _, p := range pipePool.free {
		p.close()
	}
	pipePool.free = nil
}
