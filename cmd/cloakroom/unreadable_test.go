package main

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// A session that cannot be decoded is reported on stderr and the scan goes
// on; list and stats then fail, and revoke ends it all the same.
func TestUnreadable(t *testing.T) {
	t.Parallel()
	f := filesystemFixture(t, t.TempDir())
	f.seed(t)
	ctx := context.Background()
	s := f.m.New(ctx)
	if err := f.m.Backend.Set(ctx, f.m.KeyPrefix+s.ID(), []byte("{not json"), time.Hour); err != nil {
		t.Fatal(err)
	}
	f.ids["corrupt"] = []string{s.ID()}

	r := f.run(t, "list")
	if got := owners(t, r.stdout); r.code != 1 || !maps.Equal(got, map[string]int{f.alice: 2, f.bob: 1, "-": 1}) {
		t.Errorf("list: exit %d, owners %v", r.code, got)
	}
	if !strings.Contains(r.stderr, "skipped session "+s.Handle()) || !strings.Contains(r.stderr, "1 session(s) could not be read") {
		t.Errorf("list's stderr: %q", r.stderr)
	}
	if r := f.run(t, "-json", "stats"); r.code != 1 || decode[stats](t, r.stdout).Unreadable != 1 {
		t.Errorf("stats -json: exit %d, %s", r.code, r.stdout)
	}
	if r := f.run(t, "show", s.Handle()); r.code != 1 || !strings.Contains(r.stderr, "cannot be read") {
		t.Errorf("show of the unreadable session: exit %d, %q", r.code, r.stderr)
	}
	f.ok(t, "revoke", s.Handle())
	f.wantReason(t, f.ids["corrupt"], core.Revoked)
	if r := f.ok(t, "list"); len(lines(r.stdout)) != 4 || r.stderr != "" {
		t.Errorf("list after revoking the unreadable session: %q, %q", r.stdout, r.stderr)
	}
	f.wantNoIDs(t)
}
