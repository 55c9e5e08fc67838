package main

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	out := `goos: linux
cpu: Some CPU
BenchmarkNetHTTP/Read/cloakroom-2   100  2000 ns/op  1280 B/op  16 allocs/op
BenchmarkNetHTTP/Read/scs-2         10  22000 ns/op  9488 B/op  209 allocs/op
BenchmarkNetHTTP/Read/cloakroom-2   100  3000 ns/op  1280 B/op  16 allocs/op
BenchmarkNetHTTP/Read/cloakroom-2   100  2500 ns/op  1280 B/op  16 allocs/op
PASS
`
	names, results, cpu, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if cpu != "Some CPU" || len(names) != 2 || names[0] != "NetHTTP/Read/cloakroom" || names[1] != "NetHTTP/Read/scs" {
		t.Fatalf("cpu %q, names %q", cpu, names)
	}
	if got := median(results[names[0]]["ns/op"]); got != 2500 {
		t.Errorf("median ns/op %v, want 2500", got)
	}
	if got := median(results[names[1]]["allocs/op"]); got != 209 {
		t.Errorf("allocs/op %v, want 209", got)
	}
	if f, c, l := split(names[1]); f != "NetHTTP" || c != "Read" || l != "scs" {
		t.Errorf("split: %q %q %q", f, c, l)
	}
	if r := ratio(22000.0 / 2500); r != "8.8" {
		t.Errorf("ratio %q", r)
	}
}
