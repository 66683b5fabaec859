//go:build race

package conn

// raceEnabled: the race detector allocates on its own account, so the
// tests that count allocations skip.
const raceEnabled = true
