package headers

import (
	"net/http"
	"slices"
	"testing"
)

// Set and Add behave as http.Header's, whatever the order, and a
// later Add by the handler never writes into the Values.
func TestSetAndAddActAsHeader(t *testing.T) {
	var v Values
	h, want := http.Header{}, http.Header{}
	steps := []struct {
		name, value string
		add         bool
	}{
		{"Vary", "Cookie", true},
		{"Vary", "Accept", true},
		{"Cache-Control", "private", false},
		{"Cache-Control", "no-store", false},
		{"Set-Cookie", "a=1", true},
		{"X-One-Too-Many", "1", false},
	}
	for _, s := range steps {
		if s.add {
			v.Add(h, s.name, s.value)
			want.Add(s.name, s.value)
		} else {
			v.Set(h, s.name, s.value)
			want.Set(s.name, s.value)
		}
	}
	h.Add("Set-Cookie", "b=2") // the handler's own, after the session's
	want.Add("Set-Cookie", "b=2")
	for k, w := range want {
		if !slices.Equal(h[k], w) {
			t.Errorf("%s = %q, want %q", k, h[k], w)
		}
	}
	if len(h) != len(want) {
		t.Errorf("headers %v, want %v", h, want)
	}
	if slices.Contains(v.vals[:], "b=2") {
		t.Errorf("a later Add wrote into the Values: %q", v.vals)
	}
	h = make(http.Header, 4)
	if n := testing.AllocsPerRun(100, func() {
		var v Values // escapes: the header points into it
		v.Add(h, "Vary", "Cookie")
		v.Set(h, "Cache-Control", "private")
		clear(h)
	}); n > 1 {
		t.Errorf("two headers cost %v allocations beside the Values' own, want none", n-1)
	}
}

func TestGet(t *testing.T) {
	h := http.Header{}
	h.Add("Vary", "Cookie")
	h.Add("Vary", "Accept")
	if got := Get(h, "Vary", ", "); got != "Cookie, Accept" {
		t.Errorf("Get = %q", got)
	}
	if got := Get(h, "Cache-Control", ", "); got != "" {
		t.Errorf("Get of an absent header = %q", got)
	}
}
