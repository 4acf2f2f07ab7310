package auth

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ClientIP is the address a request came from: the connection's peer (remoteAddr, as
// http.Request.RemoteAddr spells it), or, when that peer is one of the trusted proxies,
// the first address of X-Forwarded-For that is not a trusted proxy, walking from the
// right (each proxy appends the address it received the request from, so entries left
// of the first untrusted one may have been written by the client itself and are
// ignored). The header is never read when the peer is not trusted.
//
// xForwardedFor is every X-Forwarded-For header of the request joined with commas. An
// entry that is not an IP address (a proxy bug, or "unknown") stops the walk at the last
// trusted hop. IPv4-mapped IPv6 addresses are unmapped. The zero Addr means remoteAddr
// was unreadable.
func ClientIP(remoteAddr, xForwardedFor string, trusted []netip.Prefix) netip.Addr {
	peer := parseHostAddr(remoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) || strings.TrimSpace(xForwardedFor) == "" {
		return peer
	}
	hops := strings.Split(xForwardedFor, ",")
	last := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHostAddr(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			return last
		}
		if !isTrusted(a, trusted) {
			return a
		}
		last = a
	}
	return last // every hop is a trusted proxy: the farthest one is all we know
}

// parseHostAddr reads "1.2.3.4", "1.2.3.4:5678", "[::1]:80" or "::1".
func parseHostAddr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap().WithZone("")
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads a comma-separated list of CIDRs or single addresses (a single
// address is its own /32 or /128), as TRUSTED_PROXIES spells them.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", f)
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
