package httpcache

import "testing"

func TestPrivate(t *testing.T) {
	for _, tc := range []struct {
		in, field, want string
		public          bool
	}{
		{"", "Set-Cookie", `private, no-cache="Set-Cookie"`, false},
		{"", "X-Session-Token", `private, no-cache="X-Session-Token"`, false},
		{"max-age=60", "Set-Cookie", `max-age=60, private, no-cache="Set-Cookie"`, false},
		{"Public, max-age=3600", "Set-Cookie", `max-age=3600, private, no-cache="Set-Cookie"`, true},
		{`no-cache, private, must-revalidate`, "Set-Cookie", `no-cache, must-revalidate, private`, false},
		// A second Manager adds its field to the first's.
		{`private, no-cache="Set-Cookie"`, "Set-Cookie", `private, no-cache="Set-Cookie"`, false},
		{`private, no-cache="Set-Cookie"`, "X-Device-Token", `private, no-cache="Set-Cookie, X-Device-Token"`, false},
		{`max-age=0, No-Cache="set-cookie, X-A", private`, "Set-Cookie", `max-age=0, private, no-cache="set-cookie, X-A"`, false},
		{`private="Set-Cookie", max-age=0`, "Set-Cookie", `max-age=0, private, no-cache="Set-Cookie"`, false},
		{` , ,no-store`, "Set-Cookie", `no-store, private, no-cache="Set-Cookie"`, false},
	} {
		got, public := Private(tc.in, tc.field)
		if got != tc.want || public != tc.public {
			t.Errorf("Private(%q, %q) = %q, %v; want %q, %v", tc.in, tc.field, got, public, tc.want, tc.public)
		}
	}
}
