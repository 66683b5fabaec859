//go:build !unix && !windows

package proxy

// errnoRefusal knows no system errors here; the reply is the general
// failure.
func errnoRefusal(err error) (refusal, bool) { return 0, false }
