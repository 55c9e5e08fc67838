package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
)

// result is what one run of the command printed and returned.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// noEnv is an environment with nothing set, so that the tests do not
// depend on the machine's.
func noEnv(string) string { return "" }

// cli runs the command line in-process with no environment.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	return cliEnv(t, noEnv, args...)
}

func cliEnv(t *testing.T, getenv func(string) string, args ...string) result {
	t.Helper()
	var out, errs bytes.Buffer
	start := time.Now()
	code := runWith(context.Background(), args, &out, &errs, getenv)
	return result{code, out.String(), errs.String(), time.Since(start)}
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fixture is a store the command and an application's Manager share,
// seeded with two sessions of alice, one of bob and one anonymous.
type fixture struct {
	args     []string      // the flags that reach the store
	m        *core.Manager // the application's Manager, same layout
	listable bool          // the backend lists its keys (all but memcached)
	purges   bool          // the backend keeps expired sessions until purged
	plain    bool          // the codec keeps JSON's types only (Django's)

	alice, bob string              // unique per test, so that parallel runs on a shared server keep apart
	ids        map[string][]string // by owner, "" for the anonymous
	handles    map[string][]string // likewise

	mu      sync.Mutex
	printed strings.Builder // every output of the command, to look for ids in
}

// typed is the data of alice's first session: one value of each type the
// codecs keep.
func typed() map[string]any {
	return map[string]any{
		"name":   "Alice",
		"visits": int64(42),
		"ratio":  0.5,
		"admin":  true,
		"tags":   []any{"a", int64(1)},
		"pair":   codec.Tuple{int64(1), "x"},
		"raw":    []byte{0, 1, 2},
		"uid":    codec.UUID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x80, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde},
		"when":   time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		"note":   template.HTML("<b>hi</b>"),
		"prefs":  map[string]any{"theme": "dark"},
		"none":   nil,
	}
}

// plainTyped is typed with JSON's types only, for Django's codec.
func plainTyped() map[string]any {
	return map[string]any{
		"name": "Alice", "visits": int64(42), "ratio": 0.5, "admin": true,
		"tags": []any{"a", int64(1)}, "prefs": map[string]any{"theme": "dark"}, "none": nil,
	}
}

// seed stores the fixture's four sessions through f.m.
func (f *fixture) seed(t *testing.T) {
	t.Helper()
	suffix := randomHex(4)
	f.alice, f.bob = "alice-"+suffix, "bob-"+suffix
	f.ids, f.handles = map[string][]string{}, map[string][]string{}
	first := typed()
	if f.plain {
		first = plainTyped()
	}
	for _, s := range []struct {
		owner string
		data  map[string]any
	}{
		{f.alice, first},
		{f.alice, map[string]any{"device": "laptop"}},
		{f.bob, map[string]any{"device": "phone"}},
		{"", map[string]any{"cart": []any{"tea"}}},
	} {
		f.save(t, s.owner, s.data)
	}
}

func (f *fixture) save(t *testing.T, owner string, data map[string]any) {
	t.Helper()
	ctx := context.Background()
	s := f.m.New(ctx)
	for k, v := range data {
		s.Set(k, v)
	}
	if owner != "" {
		s.SetOwner(owner)
	}
	if _, err := f.m.Save(ctx, s); err != nil {
		t.Fatalf("save a session of %q: %v", owner, err)
	}
	f.ids[owner] = append(f.ids[owner], s.ID())
	f.handles[owner] = append(f.handles[owner], s.Handle())
}

// run runs the command on the fixture's store and keeps what it printed.
func (f *fixture) run(t *testing.T, args ...string) result {
	t.Helper()
	r := cli(t, append(append([]string{}, f.args...), args...)...)
	f.mu.Lock()
	f.printed.WriteString(r.stdout + r.stderr)
	f.mu.Unlock()
	return r
}

// ok runs the command and fails the test unless it succeeds.
func (f *fixture) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := f.run(t, args...)
	if r.code != 0 {
		t.Fatalf("cloakroom %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// wantReason checks what loading each id through the application's Manager
// reports.
func (f *fixture) wantReason(t *testing.T, ids []string, want core.Reason) {
	t.Helper()
	for _, id := range ids {
		s, err := f.m.Load(context.Background(), id)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if s.Reason() != want {
			t.Errorf("a session loaded after the command: Reason %v, want %v", s.Reason(), want)
		}
	}
}

// listLine is one line of list's output.
var listLine = regexp.MustCompile(`^(\S+)\s+(\S+)\s+(\d+)\s+(\S+)$`)

// owners parses list's output into its sessions' owners, counted.
func owners(t *testing.T, out string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, l := range lines(out) {
		m := listLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("list printed %q", l)
		}
		if m[4] != "-" {
			if _, err := time.Parse(time.RFC3339, m[4]); err != nil {
				t.Errorf("list's expiry %q: %v", m[4], err)
			}
		}
		got[m[2]]++
	}
	return got
}

// showLine is one key of show's output.
var showLine = regexp.MustCompile(`^(\S+)\s{2,}(\S+)\s{2,}(.*?)(\s{2,}\(reserved\))?$`)

// shown parses show's output into each key's type, value and whether it
// is reserved.
func shown(t *testing.T, out string) map[string][3]string {
	t.Helper()
	head, data, ok := strings.Cut(out, "\n\n")
	if !ok || !strings.HasPrefix(head, "handle ") {
		t.Fatalf("show printed %q", out)
	}
	got := map[string][3]string{}
	for _, l := range lines(data) {
		m := showLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("show printed %q", l)
		}
		got[m[1]] = [3]string{m[2], m[3], strings.TrimSpace(m[4])}
	}
	return got
}

// decodeLines parses JSON lines into values of type T.
func decodeLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var all []T
	for _, l := range lines(out) {
		var v T
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("-json printed %q: %v", l, err)
		}
		all = append(all, v)
	}
	return all
}

// decode parses one JSON document of type T.
func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("-json printed %q: %v", out, err)
	}
	return v
}
