package budget

import (
	"net/netip"
	"testing"
	"time"
)

func TestAllowCountsPerMinute(t *testing.T) {
	var l Limiter
	start := time.Date(2026, 12, 6, 9, 59, 30, 0, time.UTC)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for i := range 5 {
		if !l.Allow(a, start, 5) {
			t.Fatalf("event %d of 5 refused", i+1)
		}
	}
	if l.Allow(a, start.Add(10*time.Second), 5) {
		t.Fatal("a sixth event within the minute was allowed")
	}
	if !l.Allow(b, start.Add(10*time.Second), 5) {
		t.Fatal("another address was refused for the first one's events")
	}
	// Half a minute into the next window, half of the last one's five
	// still count: two more are allowed, not five.
	later := start.Add(90 * time.Second)
	allowed := 0
	for range 5 {
		if l.Allow(a, later, 5) {
			allowed++
		}
	}
	if allowed != 2 && allowed != 3 {
		t.Fatalf("%d events allowed half a minute after the window, want 2 or 3", allowed)
	}
	if !l.Allow(a, start.Add(3*time.Minute), 5) {
		t.Fatal("still refused two idle minutes later")
	}
}

func TestIPv6CountsTheNetwork(t *testing.T) {
	var l Limiter
	now := time.Unix(0, 0)
	if !l.Allow(netip.MustParseAddr("2001:db8::1"), now, 1) {
		t.Fatal("first event refused")
	}
	if l.Allow(netip.MustParseAddr("2001:db8::ffff:1"), now, 1) {
		t.Fatal("another address of the same /64 had a budget of its own")
	}
	if !l.Allow(netip.MustParseAddr("2001:db8:0:1::1"), now, 1) {
		t.Fatal("another /64 was refused")
	}
	if !l.Allow(netip.MustParseAddr("::ffff:192.0.2.1"), now, 1) || l.Allow(netip.MustParseAddr("192.0.2.1"), now, 1) {
		t.Fatal("an IPv4-mapped address is not counted as its IPv4 address")
	}
}

func TestInvalidAndUntrackedAreAllowed(t *testing.T) {
	var l Limiter
	now := time.Unix(0, 0)
	for range 3 {
		if !l.Allow(netip.Addr{}, now, 1) {
			t.Fatal("an unknown address was refused")
		}
	}
	for i := range MaxTracked {
		l.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now, 1)
	}
	over := netip.MustParseAddr("192.0.2.9")
	for range 2 {
		if !l.Allow(over, now, 1) {
			t.Fatal("an address past MaxTracked was refused")
		}
	}
	if l.Allow(netip.AddrFrom4([4]byte{10, 0, 0, 0}), now, 1) {
		t.Fatal("a tracked address lost its count when the table filled")
	}
}
