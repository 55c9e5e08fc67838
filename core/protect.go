package core

import (
	"net"
	"net/netip"
)

// Protection pins a session to the address of the client that created it.
// A request from another address gets a new session and the old one is
// deleted, which limits what a stolen cookie is worth.
type Protection int

const (
	// ProtectionOff does not pin sessions.
	ProtectionOff Protection = iota
	// ProtectAddress requires the exact client address.
	ProtectAddress
	// ProtectNetwork requires the same /24 (IPv4) or /64 (IPv6) network,
	// for clients whose address changes within their provider's range.
	ProtectNetwork
)

// parseAddr accepts "ip", "ip:port" and "[ipv6]:port"; it returns the
// zero Addr for anything else.
func parseAddr(s string) netip.Addr {
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
