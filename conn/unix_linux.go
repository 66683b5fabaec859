package conn

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// abstractNames says the platform has abstract Unix socket names (@name).
const abstractNames = true

// peerCred reads SO_PEERCRED: the process that connected (or listened),
// as the kernel recorded it then.
func peerCred(c *net.UnixConn) (PeerCred, bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return PeerCred{}, false
	}
	var cred *unix.Ucred
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || gerr != nil || cred == nil {
		return PeerCred{}, false
	}
	return PeerCred{PID: int(cred.Pid), UID: int(cred.Uid), GID: int(cred.Gid)}, true
}

// boundHere reports whether a socket in this network namespace listens
// on path (a stream socket) or is bound to it (a datagram socket), as
// /proc/net/unix lists them. It lets the stale-socket check tell a live
// socket without connecting to it, which would make a server that serves
// one client serve the check. A server elsewhere (another namespace
// sharing the file) is not listed: the check connects then.
func boundHere(path string) bool {
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		return false
	}
	defer f.Close()
	abs, _ := filepath.Abs(path)
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		name := strings.Join(fields[7:], " ")
		if name != path && name != abs {
			continue
		}
		const acceptCon = 0x10000 // __SO_ACCEPTCON: listening
		flags, ferr := strconv.ParseUint(fields[3], 16, 64)
		typ, terr := strconv.ParseUint(fields[4], 16, 64)
		if ferr != nil || terr != nil {
			continue
		}
		if flags&acceptCon != 0 || typ == unix.SOCK_DGRAM {
			return true
		}
	}
	return false
}
