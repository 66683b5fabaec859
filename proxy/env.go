package proxy

import (
	"net"
	"net/netip"
	"strings"
)

// FromEnvironment returns the proxy "--proxy env" means for a
// connection to host (a name or address, without port): the first set of
// ALL_PROXY and all_proxy, then, for a TLS connection, HTTPS_PROXY and
// https_proxy. A value without a scheme is an HTTP proxy, as curl reads
// it. ok is false when none is set or NO_PROXY (or no_proxy) exempts
// host (see NoProxy); the connection is then direct. getenv is
// os.Getenv or a test's stand-in. A malformed value is a *ParseError
// naming the variable, never quoting its credentials.
func FromEnvironment(getenv func(string) string, host string, tls bool) (h Hop, ok bool, err error) {
	names := []string{"ALL_PROXY", "all_proxy"}
	if tls {
		names = append(names, "HTTPS_PROXY", "https_proxy")
	}
	name, value := "", ""
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			name, value = n, v
			break
		}
	}
	if value == "" {
		return Hop{}, false, nil
	}
	noProxy := getenv("NO_PROXY")
	if noProxy == "" {
		noProxy = getenv("no_proxy")
	}
	if NoProxy(noProxy, host) {
		return Hop{}, false, nil
	}
	typ := ""
	if !strings.Contains(value, "://") {
		typ = "http"
	}
	h, err = ParseHop(value, typ)
	if err != nil {
		if pe, isPE := err.(*ParseError); isPE {
			pe.What += " in " + name
		}
		return Hop{}, false, err
	}
	return h, true, nil
}

// NoProxy reports whether list, a NO_PROXY value, exempts host from the
// proxy. The list is separated by commas or blanks; each entry is "*"
// (every host), a CIDR or address (matched against an address host), or
// a name, which matches that name and every name under it (a leading
// "." or "*." is ignored, as curl does). Ports in entries are ignored.
// Names compare without regard to case or a trailing dot.
func NoProxy(list, host string) bool {
	host = normName(strings.Trim(host, "[]"))
	hostIP, ipErr := netip.ParseAddr(host)
	for _, entry := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if entry == "*" {
			return true
		}
		if p, err := netip.ParsePrefix(entry); err == nil {
			if ipErr == nil && p.Contains(hostIP.Unmap()) {
				return true
			}
			continue
		}
		e := entry
		if h, _, err := net.SplitHostPort(e); err == nil {
			e = h
		}
		e = strings.Trim(e, "[]")
		if a, err := netip.ParseAddr(e); err == nil {
			if ipErr == nil && a.Unmap() == hostIP.Unmap() {
				return true
			}
			continue
		}
		e = normName(strings.TrimPrefix(strings.TrimPrefix(e, "*"), "."))
		if e == "" {
			continue
		}
		if host == e || strings.HasSuffix(host, "."+e) {
			return true
		}
	}
	return false
}
