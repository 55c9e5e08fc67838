package main

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// exercise runs every command against a seeded fixture, checking their
// output and, through the application's Manager, what they did.
func exercise(t *testing.T, f *fixture) {
	f.seed(t)
	alice, bob := f.alice, f.bob

	// list: every session, or one user's through their index.
	if f.listable {
		r := f.ok(t, "list")
		if got, want := owners(t, r.stdout), map[string]int{alice: 2, bob: 1, "-": 1}; !maps.Equal(got, want) {
			t.Errorf("list found the sessions of %v, want %v\n%s", got, want, r.stdout)
		}
	} else {
		r := f.run(t, "list")
		if r.code != 1 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "cannot list its keys") || !strings.Contains(r.stderr, "-user") {
			t.Errorf("list on a backend that cannot list: exit %d, stderr %q; want 1 and a line that says to use -user", r.code, r.stderr)
		}
	}
	r := f.ok(t, "list", "-user", alice)
	if got := owners(t, r.stdout); !maps.Equal(got, map[string]int{alice: 2}) {
		t.Errorf("list -user alice: %v\n%s", got, r.stdout)
	}
	r = f.ok(t, "-json", "list", "-user", alice)
	entries := decodeLines[summary](t, r.stdout)
	if len(entries) != 2 {
		t.Fatalf("list -json -user alice: %d lines, want 2\n%s", len(entries), r.stdout)
	}
	for _, e := range entries {
		if e.Owner == nil || *e.Owner != alice || e.Handle == nil || e.Size == 0 {
			t.Errorf("list -json: %+v", e)
		}
		if e.Expires != nil {
			if _, err := time.Parse(time.RFC3339, *e.Expires); err != nil {
				t.Errorf("list -json: expires %q: %v", *e.Expires, err)
			}
		}
	}

	// show: the typed values of alice's first session.
	handle := f.handles[alice][0]
	showArgs := []string{"show", handle}
	if !f.listable {
		showArgs = append(showArgs, "-user", alice)
	}
	r = f.ok(t, showArgs...)
	checkShown(t, f, shown(t, r.stdout), r.stdout)
	r = f.ok(t, append([]string{"-json"}, showArgs...)...)
	doc := decode[struct {
		summary
		Data map[string]struct {
			Type     string `json:"type"`
			Value    any    `json:"value"`
			Reserved bool   `json:"reserved"`
		} `json:"data"`
	}](t, r.stdout)
	if doc.Owner == nil || *doc.Owner != alice || doc.Data["visits"].Type != "integer" || doc.Data["visits"].Value != 42.0 ||
		doc.Data["name"].Value != "Alice" || doc.Data["ratio"].Type != "float" {
		t.Errorf("show -json: %+v", doc)
	}
	if !f.plain && (!doc.Data["_permanent"].Reserved || doc.Data["raw"].Value != "AAEC" || doc.Data["raw"].Type != "bytes" || doc.Data["when"].Value != "2024-05-06T07:08:09Z") {
		t.Errorf("show -json: bytes %+v, datetime %+v", doc.Data["raw"], doc.Data["when"])
	}
	if r := f.run(t, "show", "AAAAAAAAAAAAAAAA", "-user", alice); r.code != 1 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "no live session") {
		t.Errorf("show of an unknown handle: exit %d, stderr %q", r.code, r.stderr)
	}

	// stats: counts of everything, or of one user.
	if f.listable {
		r = f.ok(t, "stats")
		for _, want := range []string{"sessions  4", "owners  2", "anonymous  1", alice + "  2", bob + "  1"} {
			if !containsSpaced(r.stdout, want) {
				t.Errorf("stats lacks %q:\n%s", want, r.stdout)
			}
		}
		s := decode[stats](t, f.ok(t, "stats", "-json").stdout)
		if s.Sessions != 4 || s.Owners != 2 || s.Anonymous != 1 || len(s.TopOwners) != 2 || s.TopOwners[0] != (ownerCount{alice, 2}) ||
			s.Size.P50 == 0 || s.Size.Max < s.Size.P99 || s.Size.P99 < s.Size.P90 || s.Size.P90 < s.Size.P50 {
			t.Errorf("stats -json: %+v", s)
		}
	} else {
		s := decode[stats](t, f.ok(t, "stats", "-user", alice, "-json").stdout)
		if s.Sessions != 2 || s.Owners != 1 || s.Anonymous != 0 {
			t.Errorf("stats -json -user alice: %+v", s)
		}
	}

	// revoke HANDLE ends bob's session; revoke -user every one of alice's.
	args := []string{"revoke", f.handles[bob][0]}
	if !f.listable {
		args = append(args, "-user", bob)
	}
	if r := f.ok(t, args...); strings.TrimSpace(r.stdout) != "revoked 1 session" {
		t.Errorf("revoke HANDLE printed %q", r.stdout)
	}
	f.wantReason(t, f.ids[bob], core.Revoked)
	f.wantReason(t, f.ids[alice], core.NotNew)
	if r := f.ok(t, "revoke", "-user", alice); strings.TrimSpace(r.stdout) != "revoked 2 sessions" {
		t.Errorf("revoke -user alice printed %q", r.stdout)
	}
	f.wantReason(t, f.ids[alice], core.Revoked)
	if r := f.ok(t, "-json", "revoke", "-user", alice); decode[map[string]int](t, r.stdout)["revoked"] != 0 {
		t.Errorf("revoke -json of a user without sessions: %s", r.stdout)
	}
	if f.listable {
		if got := owners(t, f.ok(t, "list").stdout); !maps.Equal(got, map[string]int{"-": 1}) {
			t.Errorf("list after the revocations: %v, want the anonymous session only", got)
		}
	}
	if r := f.ok(t, "list", "-user", alice); r.stdout != "" {
		t.Errorf("list -user alice after revoke -user alice: %q", r.stdout)
	}

	// purge: an expired session is removed where the backend keeps it.
	if f.purges {
		expire(t, f)
		if r := f.ok(t, "purge"); strings.TrimSpace(r.stdout) != "purged 1 expired session" {
			t.Errorf("purge printed %q", r.stdout)
		}
		if r := f.ok(t, "-json", "purge"); decode[map[string]int](t, r.stdout)["purged"] != 0 {
			t.Errorf("purge -json, again: %s", r.stdout)
		}
	} else if r := f.ok(t, "purge"); !strings.Contains(r.stdout, "expires keys itself") {
		t.Errorf("purge on a backend that expires keys itself printed %q", r.stdout)
	}

	f.wantNoIDs(t)
}

// checkShown checks show's lines for alice's first session.
func checkShown(t *testing.T, f *fixture, got map[string][3]string, out string) {
	t.Helper()
	want := map[string][2]string{
		"name":   {"string", `"Alice"`},
		"visits": {"integer", "42"},
		"ratio":  {"float", "0.5"},
		"admin":  {"boolean", "true"},
		"tags":   {"list", `["a", 1]`},
		"prefs":  {"map", `{"theme": "dark"}`},
		"none":   {"null", "null"},
	}
	if !f.plain {
		want["pair"] = [2]string{"tuple", `(1, "x")`}
		want["raw"] = [2]string{"bytes", `b"\x00\x01\x02"`}
		want["uid"] = [2]string{"UUID", "12345678-9abc-4def-8012-3456789abcde"}
		want["when"] = [2]string{"datetime", "2024-05-06T07:08:09Z"}
		want["note"] = [2]string{"markup", `"<b>hi</b>"`}
		want["_permanent"] = [2]string{"boolean", "true"}
		want["_owner"] = [2]string{"string", `"` + f.alice + `"`}
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || g[0] != w[0] || g[1] != w[1] {
			t.Errorf("show: %s is %q, want %q\n%s", k, g, w, out)
		}
		if reserved := g[2] != ""; reserved != core.Reserved(k) {
			t.Errorf("show: %s marked reserved: %v\n%s", k, reserved, out)
		}
	}
}

// expire stores a session that expires at once, beside the fixture's.
func expire(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	id := f.m.New(ctx).ID()
	b, err := f.m.Codec.Encode(map[string]any{"n": int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.m.Backend.Set(ctx, f.m.KeyPrefix+id, b, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	f.ids["expired"] = []string{id}
	time.Sleep(400 * time.Millisecond)
}

// wantNoIDs checks that nothing the command printed holds a session id.
func (f *fixture) wantNoIDs(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	printed := f.printed.String()
	for _, ids := range f.ids {
		for _, id := range ids {
			if strings.Contains(printed, id) {
				t.Errorf("the output holds a session id")
			}
		}
	}
}

// containsSpaced reports whether s has want with any run of spaces where
// want has two.
func containsSpaced(s, want string) bool {
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Join(strings.Fields(l), "  ") == want {
			return true
		}
	}
	return false
}
