package conn_test

import "strings"

// sockKind reports whether s may name a UDP or Unix endpoint, which
// FuzzParseEndpointSock covers (a dialer of these kinds is not a
// TCPDialer, and a listener binds).
func sockKind(s string) bool {
	body, _, _ := strings.Cut(s, ",")
	name, _, _ := strings.Cut(body, ":")
	for _, n := range []string{"udp", "udp-connect", "udp-sendto", "udp-listen", "udp-l", "udp-recvfrom", "unix", "unix-connect", "unix-client", "unix-listen", "unix-l"} {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}
