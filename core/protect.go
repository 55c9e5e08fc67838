package core

import (
	"net"
	"net/netip"
	"strings"
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

// ClientAddr returns the address of the client behind a request. It is the
// connection's peer, unless the peer is one of the TrustedProxies: then it
// is the right-most address of X-Forwarded-For that is not a trusted proxy.
// Entries left of that one could have been written by anybody.
func (m *Manager) ClientAddr(ex Exchange) netip.Addr {
	peer := parseAddr(ex.RemoteAddr())
	if !m.trusted(peer) {
		return peer
	}
	client := peer
	hops := ex.RequestHeader("X-Forwarded-For")
	for hops != "" {
		var hop string
		if i := strings.LastIndexByte(hops, ','); i >= 0 {
			hops, hop = hops[:i], hops[i+1:]
		} else {
			hops, hop = "", hops
		}
		a := parseAddr(strings.TrimSpace(hop))
		if !a.IsValid() {
			break // not an address a trusted proxy would write
		}
		client = a
		if !m.trusted(a) {
			break
		}
	}
	return client
}

func (m *Manager) trusted(a netip.Addr) bool {
	for _, p := range m.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// sameClient reports whether addr, as stored in a session, matches client
// under the Manager's protection mode.
func (m *Manager) sameClient(stored string, client netip.Addr) bool {
	a := parseAddr(stored)
	if m.Protection == ProtectNetwork && a.IsValid() && client.IsValid() && a.Is4() == client.Is4() {
		bits := 64
		if a.Is4() {
			bits = 24
		}
		pa, _ := a.Prefix(bits)
		pc, _ := client.Prefix(bits)
		return pa == pc
	}
	return a == client
}

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
