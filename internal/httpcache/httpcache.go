// Package httpcache rewrites Cache-Control for responses that must not be
// stored by shared caches.
package httpcache

import "strings"

// private forbids shared caches to store a response, and any cache to
// reuse its Set-Cookie without asking the server again.
const private = `private, no-cache="Set-Cookie"`

// Private returns the Cache-Control value cc made private: the directives
// of cc are kept, except "public" and "private", and
// `private, no-cache="Set-Cookie"` is added. public reports whether cc had
// "public".
func Private(cc string) (value string, public bool) {
	var out []string
	for d := range strings.SplitSeq(cc, ",") {
		d = strings.TrimSpace(d)
		switch name, _, _ := strings.Cut(strings.ToLower(d), "="); name {
		case "":
		case "public":
			public = true
		case "private":
		default:
			out = append(out, d)
		}
	}
	return strings.Join(append(out, private), ", "), public
}
