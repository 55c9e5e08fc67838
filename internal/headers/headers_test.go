package headers

import (
	"net/http"
	"slices"
	"testing"
)

// Put behaves as http.Header's Set and Add, whatever the order, and a
// later Add by the handler never writes into the Values.
func TestPutActsAsHeader(t *testing.T) {
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
		v.Put(h, s.name, s.value, s.add)
		if s.add {
			want.Add(s.name, s.value)
		} else {
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
		v.Put(h, "Vary", "Cookie", true)
		v.Put(h, "Cache-Control", "private", false)
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
