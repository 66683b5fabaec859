package conn

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// ACL decides which clients a listener serves: when any allow rule exists
// a client must match one, and it must match no deny rule. The nil ACL and
// the zero ACL admit everyone.
type ACL struct {
	allow, deny []netip.Prefix
}

// NewACL reads allow and deny rules, each a CIDR ("10.0.0.0/8") or a single
// address, given directly or in files of one rule per line (blank lines and
// text after '#' are ignored).
func NewACL(allow, deny, allowFiles, denyFiles []string) (*ACL, error) {
	a := &ACL{}
	for _, set := range []struct {
		rules, files []string
		dst          *[]netip.Prefix
		flag         string
	}{{allow, allowFiles, &a.allow, "--allow-file"}, {deny, denyFiles, &a.deny, "--deny-file"}} {
		for _, r := range set.rules {
			p, err := ParsePrefix(r)
			if err != nil {
				return nil, err
			}
			*set.dst = append(*set.dst, p)
		}
		for _, f := range set.files {
			ps, err := readPrefixes(set.flag, f)
			if err != nil {
				return nil, err
			}
			*set.dst = append(*set.dst, ps...)
		}
	}
	return a, nil
}

// Restricts reports whether a has allow rules, so that only the clients
// they name are served; false for the nil ACL.
func (a *ACL) Restricts() bool { return a != nil && len(a.allow) > 0 }

const prefixHint = `write a CIDR such as "10.0.0.0/8" or "::1/128", or a single address such as "192.0.2.7"`

// ParsePrefix reads a CIDR or a single address (a prefix of full length).
func ParsePrefix(s string) (netip.Prefix, error) {
	t := strings.TrimSpace(s)
	if strings.Contains(t, "/") {
		p, err := netip.ParsePrefix(t)
		if err != nil {
			return netip.Prefix{}, &ParseError{What: "CIDR", Value: s, Hint: prefixHint}
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			if !p.IsValid() {
				return netip.Prefix{}, &ParseError{What: "CIDR", Value: s, Hint: prefixHint}
			}
		}
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(t)
	if err != nil {
		return netip.Prefix{}, &ParseError{What: "address", Value: s, Hint: prefixHint}
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

const rulesFileHint = "give a readable file of CIDRs or addresses, one per line"

// readPrefixes reads a rules file given with flag. Every problem with it
// is a usage error naming the flag and the file, and the line when one is
// at fault.
func readPrefixes(flag, name string) ([]netip.Prefix, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, &FileError{Flag: flag, Path: name, Err: err, Hint: rulesFileHint}
	}
	defer f.Close()
	var ps []netip.Prefix
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(text) == "" {
			continue
		}
		p, err := ParsePrefix(text)
		if err != nil {
			return nil, &FileError{Flag: flag, Path: name, Line: line, Err: err, Hint: prefixHint}
		}
		ps = append(ps, p)
	}
	if err := sc.Err(); err != nil {
		return nil, &FileError{Flag: flag, Path: name, Err: err, Hint: rulesFileHint}
	}
	return ps, nil
}

// Check admits or refuses a client by its address. The rules are about
// IP clients (TCP and UDP): a Unix-domain client has no IP address, and
// is admitted by the socket file's permissions instead, so Check admits
// it whatever the rules.
func (a *ACL) Check(addr net.Addr) error {
	if a == nil || len(a.allow) == 0 && len(a.deny) == 0 {
		return nil
	}
	var ip netip.Addr
	switch ta := addr.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(ta.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(ta.IP)
	case *net.UnixAddr:
		return nil
	}
	ip = ip.Unmap()
	if !ip.IsValid() {
		return fmt.Errorf("address %v is not an IP address, and rules are set", addr)
	}
	for _, p := range a.deny {
		if p.Contains(ip) {
			return fmt.Errorf("%s matches deny rule %s", ip, p)
		}
	}
	if len(a.allow) == 0 {
		return nil
	}
	for _, p := range a.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	return fmt.Errorf("%s matches no allow rule", ip)
}
