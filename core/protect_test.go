package core_test

import (
	"net/netip"
	"testing"

	"github.com/cloakroom/cloakroom/core"
)

func TestClientAddr(t *testing.T) {
	m := core.NewManager(nil)
	m.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct{ remote, xff, want string }{
		{"203.0.113.7:5000", "", "203.0.113.7"},
		{"203.0.113.7:5000", "1.2.3.4", "203.0.113.7"},             // untrusted peer: header ignored
		{"10.0.0.2:5000", "198.51.100.9", "198.51.100.9"},          // one trusted proxy
		{"10.0.0.2:5000", "6.6.6.6, 198.51.100.9", "198.51.100.9"}, // forged left part ignored
		{"10.0.0.2:5000", "198.51.100.9, 10.0.0.3", "198.51.100.9"},
		{"10.0.0.2:5000", "10.0.0.4,10.0.0.3", "10.0.0.4"}, // all trusted: left-most
		{"10.0.0.2:5000", "garbage, 10.0.0.3", "10.0.0.3"}, // stops at what no proxy writes
		{"[::1]:5000", "2001:db8::1", "2001:db8::1"},       // IPv6 proxy
		{"[::ffff:203.0.113.7]:80", "", "203.0.113.7"},     // 4-in-6 unmapped
		{"10.0.0.2:5000", "", "10.0.0.2"},                  // proxy with no header
		{"@", "", "invalid IP"},                            // unix socket peer
	} {
		ex := newExchange(tc.remote)
		if tc.xff != "" {
			ex.header.Set("X-Forwarded-For", tc.xff)
		}
		if got := m.ClientAddr(ex).String(); got != tc.want {
			t.Errorf("ClientAddr(%q, XFF %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestProtection(t *testing.T) {
	for _, tc := range []struct {
		mode        core.Protection
		from, later string
		kept        bool
	}{
		{core.ProtectAddress, "192.0.2.1:1", "192.0.2.1:2", true},
		{core.ProtectAddress, "192.0.2.1:1", "192.0.2.2:1", false},
		{core.ProtectNetwork, "192.0.2.1:1", "192.0.2.200:1", true},
		{core.ProtectNetwork, "192.0.2.1:1", "192.0.3.1:1", false},
		{core.ProtectNetwork, "[2001:db8::1]:1", "[2001:db8::ffff]:1", true},
		{core.ProtectNetwork, "[2001:db8::1]:1", "[2001:db8:0:1::1]:1", false},
		{core.ProtectNetwork, "192.0.2.1:1", "[2001:db8::1]:1", false},
	} {
		b := newCounting(t)
		m := core.NewManager(b)
		m.Protection = tc.mode
		ex := serve(t, m, "", tc.from, func(s *core.Session) { s.Set("user", "alice") })
		cookie := ex.setCookie("session").Value
		b.Calls()
		var kept bool
		ex = serve(t, m, cookie, tc.later, func(s *core.Session) {
			v, _ := s.GetString("user")
			kept = v == "alice"
		})
		if kept != tc.kept {
			t.Errorf("mode %d: %s then %s: kept = %v, want %v", tc.mode, tc.from, tc.later, kept, tc.kept)
			continue
		}
		if !kept {
			calls := b.Calls()
			if len(calls) != 2 || calls[1] != "delete session:"+cookie {
				t.Errorf("calls %q: the old session must be deleted", calls)
			}
			if c := ex.setCookie("session"); c == nil || c.MaxAge >= 0 {
				t.Errorf("the old cookie must be expired, got %v", c)
			}
		}
	}
}

func TestProtectionStoresAddr(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	m.Protection = core.ProtectAddress
	ex := serve(t, m, "", "192.0.2.1:1", func(s *core.Session) { s.Set("a", 1) })
	id := ex.setCookie("session").Value
	s, _ := m.Load(t.Context(), id)
	if v, _ := s.GetString("_addr"); v != "192.0.2.1" {
		t.Fatalf("_addr = %q, want 192.0.2.1 (Quart-Session's key)", v)
	}
	if keys := s.Keys(); len(keys) != 1 || keys[0] != "a" {
		t.Fatalf("Keys = %q: internal keys must not show", keys)
	}
}
