//go:build !linux

package conn

import "net"

// abstractNames is false: only Linux has abstract Unix socket names.
const abstractNames = false

// peerCred is not implemented off Linux: the -v lines leave the
// credentials out.
func peerCred(c *net.UnixConn) (PeerCred, bool) { return PeerCred{}, false }

// boundHere is false: only Linux lists its sockets, and the stale-socket
// check connects instead.
func boundHere(path string) bool { return false }
