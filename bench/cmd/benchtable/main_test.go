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

// TestTableFrameworks checks that each framework's peers are compared with
// the cloakroom row of their own framework, Fiber3's with Fiber3's rather
// than Fiber's, that two peers of one framework (Fiber v3's middleware and
// its store) get a row each, and that a framework where cloakroom runs alone (Echo5)
// gets rows without ratios.
func TestTableFrameworks(t *testing.T) {
	out := `BenchmarkEcho5/Read/cloakroom-2            100  1500 ns/op  1300 B/op  17 allocs/op
BenchmarkFiber/Read/cloakroom-2            100  1000 ns/op   700 B/op  12 allocs/op
BenchmarkFiber/Read/fiber-session-2        100  8000 ns/op  8400 B/op  180 allocs/op
BenchmarkFiber3/Read/cloakroom-2           100  2000 ns/op   800 B/op  14 allocs/op
BenchmarkFiber3/Read/fiber-session-2       100  9000 ns/op  4000 B/op  70 allocs/op
BenchmarkFiber3/Read/fiber-store-2         100  6000 ns/op  3200 B/op  56 allocs/op
`
	names, results, _, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	writeTable(&b, names, results)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"| Echo5 | Read | cloakroom | 1500 | 1300 | 17 |  |  |  |",
		"| Fiber | Read | cloakroom | 1000 | 700 | 12 |  |  |  |",
		"| Fiber | Read | fiber-session | 8000 | 8400 | 180 | 8.0 | 12 | 15 |",
		"| Fiber3 | Read | cloakroom | 2000 | 800 | 14 |  |  |  |",
		"| Fiber3 | Read | fiber-session | 9000 | 4000 | 70 | 4.5 | 5.0 | 5.0 |",
		"| Fiber3 | Read | fiber-store | 6000 | 3200 | 56 | 3.0 | 4.0 | 4.0 |",
	}
	if len(lines) != 2+len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), 2+len(want), b.String())
	}
	for i, w := range want {
		if lines[2+i] != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, lines[2+i], w)
		}
	}
}

// TestRepeats checks that the sub-benchmarks go test renames when they run
// again under one name (Read#01) count as samples of the first, so that
// BenchmarkRedis's interleaved rounds give one row per side.
func TestRepeats(t *testing.T) {
	out := `BenchmarkRedis/Read/cloakroom-2       100  60000 ns/op
BenchmarkRedis/Read/go-redis-2        100  57000 ns/op
BenchmarkRedis/Read#01/cloakroom-2    100  62000 ns/op
BenchmarkRedis/Read#01/go-redis-2     100  61000 ns/op
BenchmarkRedis/Read#02/cloakroom-2    100  61000 ns/op
BenchmarkRedis/Read#02/go-redis-2     100  59000 ns/op
`
	names, results, _, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != "Redis/Read/cloakroom" || names[1] != "Redis/Read/go-redis" {
		t.Fatalf("names %q", names)
	}
	if got := median(results[names[0]]["ns/op"]); got != 61000 || len(results[names[0]]["ns/op"]) != 3 {
		t.Errorf("cloakroom: %v, median %v; want 3 samples, median 61000", results[names[0]]["ns/op"], got)
	}
	for in, want := range map[string]string{"A#1/b": "A/b", "A/b#12": "A/b", "#01": "#01", "A#x/b": "A#x/b", "A#": "A#"} {
		if got := dropRepeats(in); got != want {
			t.Errorf("dropRepeats(%q) = %q, want %q", in, got, want)
		}
	}
}
