// Package clientip finds the address of the client behind a request and
// compares addresses, for session protection.
package clientip

import (
	"net"
	"net/netip"
	"strings"
)

// Resolve returns the client's address: peer (the connection's, "ip:port"
// or "ip"), unless peer is one of trusted; then the right-most address of
// the X-Forwarded-For value xff that is not trusted. Entries left of that
// one could have been written by anybody.
func Resolve(peer, xff string, trusted []netip.Prefix) netip.Addr {
	client := Parse(peer)
	for isTrusted(client, trusted) && xff != "" {
		var hop string
		if i := strings.LastIndexByte(xff, ','); i >= 0 {
			xff, hop = xff[:i], xff[i+1:]
		} else {
			xff, hop = "", xff
		}
		a := Parse(strings.TrimSpace(hop))
		if !a.IsValid() {
			break // not an address a trusted proxy would write
		}
		client = a
	}
	return client
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// SameNetwork reports whether a and b are in one /24 (IPv4) or /64 (IPv6).
func SameNetwork(a, b netip.Addr) bool {
	if !a.IsValid() || !b.IsValid() || a.Is4() != b.Is4() {
		return a == b
	}
	bits := 64
	if a.Is4() {
		bits = 24
	}
	pa, _ := a.Prefix(bits)
	pb, _ := b.Prefix(bits)
	return pa == pb
}

// Parse accepts "ip", "ip:port" and "[ipv6]:port"; it returns the zero Addr
// for anything else.
func Parse(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}
