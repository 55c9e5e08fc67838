package httpcache

import "testing"

func TestPrivate(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		public   bool
	}{
		{"", `private, no-cache="Set-Cookie"`, false},
		{"max-age=60", `max-age=60, private, no-cache="Set-Cookie"`, false},
		{"Public, max-age=3600", `max-age=3600, private, no-cache="Set-Cookie"`, true},
		{`no-cache, private, must-revalidate`, `no-cache, must-revalidate, private, no-cache="Set-Cookie"`, false},
	} {
		got, public := Private(tc.in)
		if got != tc.want || public != tc.public {
			t.Errorf("Private(%q) = %q, %v; want %q, %v", tc.in, got, public, tc.want, tc.public)
		}
	}
}
