package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// target is a database configuration the conditional tests run on: every
// dialect, and MySQL with each driver setting that changes what it reports.
type target struct {
	name    string
	dialect Dialect
	params  string // added to the MySQL test DSN
}

var targets = []target{
	{"postgres", Postgres, ""},
	{"mysql", MySQL, ""}, // clientFoundRows=false: affected rows are changed rows
	{"mysql-clientFoundRows", MySQL, "&clientFoundRows=true"},
	{"mysql-interpolateParams", MySQL, "&interpolateParams=true"},
	{"sqlite", SQLite, ""},
}

// layouts are the tables the conditional tests run on: cloakroom's (binary
// data, nullable expiry) and Django's (text data, NOT NULL expiry) with
// keys long enough for the tests.
var layouts = []struct {
	name  string
	table Table
}{{"default", Table{}}, {"django", wideDjango()}}

// eachTarget runs fn on a Store on a scratch table, for every target and
// layout.
func eachTarget(t *testing.T, fn func(t *testing.T, s *Store)) {
	for _, tg := range targets {
		for _, l := range layouts {
			t.Run(tg.name+"/"+l.name, func(t *testing.T) {
				t.Parallel()
				fn(t, targetStore(t, tg, l.table))
			})
		}
	}
}

func targetStore(t *testing.T, tg target, base Table) *Store {
	t.Helper()
	dsn := testDSN(t, tg.dialect) + tg.params
	return storeOn(t, openDB(t, tg.dialect, dsn), tg.dialect, Options{Table: scratchTable(t, tg.dialect, base)})
}

func mustSet(t *testing.T, s *Store, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Set(context.Background(), key, value, ttl); err != nil {
		t.Fatal(err)
	}
}

func version(t *testing.T, s *Store, key string) core.Version {
	t.Helper()
	_, v, err := s.GetVersion(context.Background(), key)
	if err != nil {
		t.Fatalf("GetVersion(%q): %v", key, err)
	}
	return v
}

func wantStored(t *testing.T, s *Store, key string, want []byte) {
	t.Helper()
	got, err := s.Get(context.Background(), key)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %q, %v; want %q", key, shorten(got), err, shorten(want))
	}
}

func wantIs(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) { // errors.Is(err, nil) means err == nil
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func shorten(b []byte) []byte {
	if len(b) > 40 {
		return append(b[:20:20], "..."...)
	}
	return b
}

// TestConditionalOneStatement checks that each conditional method is a
// single statement when it succeeds, and that GetVersion is the one query
// of Get.
func TestConditionalOneStatement(t *testing.T) {
	eachTarget(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		count := counting(s)
		steps := []struct {
			what string
			run  func() error
		}{
			{"SetIf(nil) of an absent key", func() error { return s.SetIf(ctx, "k", nil, []byte("v1"), time.Hour) }},
			{"GetVersion", func() error { _, _, err := s.GetVersion(ctx, "k"); return err }},
			{"SetIf", func() error { return s.SetIf(ctx, "k", core.Version("v1"), []byte("v2"), time.Hour) }},
			{"SetIf without expiry", func() error { return s.SetIf(ctx, "k", core.Version("v2"), []byte("v3"), 0) }},
			{"DeleteIf", func() error { return s.DeleteIf(ctx, "k", core.Version("v3")) }},
		}
		for _, step := range steps {
			count()
			if err := step.run(); err != nil {
				t.Fatalf("%s: %v", step.what, err)
			}
			if n := count(); n != 1 {
				t.Errorf("%s ran %d statements, want 1", step.what, n)
			}
		}
		wantAbsent(t, s, "k")
	})
}

// TestSetIfUnchanged writes back the value and expiry a row already holds.
// MySQL without clientFoundRows reports that no row was affected: it is a
// success all the same, and a stale version is still a conflict.
func TestSetIfUnchanged(t *testing.T) {
	eachTarget(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		at := time.Now()
		s.now = func() time.Time { return at } // the same expiry each time
		// The second value is not text: a text column holds it encoded.
		for _, same := range [][]byte{[]byte("same"), []byte("\xffsame")} {
			for _, ttl := range []time.Duration{0, time.Hour} {
				mustSet(t, s, "k", same, ttl)
				v := version(t, s, "k")
				for range 2 {
					wantIs(t, "SetIf of the value held", s.SetIf(ctx, "k", v, same, ttl), nil)
				}
				wantStored(t, s, "k", same)
				mustSet(t, s, "k", []byte("other"), ttl) // a blind write
				wantIs(t, "SetIf with a stale version", s.SetIf(ctx, "k", v, same, ttl), core.ErrConflict)
				wantStored(t, s, "k", []byte("other"))
				wantIs(t, "DeleteIf with a stale version", s.DeleteIf(ctx, "k", v), core.ErrConflict)
			}
		}
		if err := s.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		wantIs(t, "SetIf of a deleted key", s.SetIf(ctx, "k", core.Version("other"), []byte("other"), 0), core.ErrNotFound)
		wantAbsent(t, s, "k")
	})
}

// TestSameResultTwiceConflicts: two requests that read one version and
// compute the same new value (both turn n=5 into n=6) must not both
// succeed, or one increment is lost. MySQL without clientFoundRows reports
// the second UPDATE like an unchanged row: the classification must not
// take it for a success.
func TestSameResultTwiceConflicts(t *testing.T) {
	eachTarget(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		at := time.Now()
		s.now = func() time.Time { return at } // the same expiry each time
		mustSet(t, s, "k", []byte(`{"n":5}`), time.Hour)
		v := version(t, s, "k")
		wantIs(t, "first SetIf", s.SetIf(ctx, "k", v, []byte(`{"n":6}`), time.Hour), nil)
		wantIs(t, "second SetIf from the same version to the same value", s.SetIf(ctx, "k", v, []byte(`{"n":6}`), time.Hour), core.ErrConflict)
	})
}

// TestConditionalComparesBytes changes a value only in case or trailing
// spaces, which MySQL's default text collations (and its PAD SPACE
// comparisons) consider equal: the version check must not.
func TestConditionalComparesBytes(t *testing.T) {
	eachTarget(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i, change := range [][2]string{
			{"Session:abc", "session:abc"},
			{"session:abc", "session:abc "},
			{"session:abc ", "session:abc"},
		} {
			key := "k" + string(rune('0'+i))
			mustSet(t, s, key, []byte(change[0]), time.Hour)
			v := version(t, s, key)
			mustSet(t, s, key, []byte(change[1]), time.Hour) // a blind write
			wantIs(t, "SetIf after "+strings.Join(change[:], " -> "), s.SetIf(ctx, key, v, []byte("mine"), time.Hour), core.ErrConflict)
			wantIs(t, "DeleteIf after "+strings.Join(change[:], " -> "), s.DeleteIf(ctx, key, v), core.ErrConflict)
			wantStored(t, s, key, []byte(change[1]))
		}
	})
}

// TestPeerBlindWriteConflicts has a peer that knows nothing of versions
// (Django, an older cloakroom) overwrite the data column with a plain
// UPDATE between GetVersion and a conditional write: SetIf and DeleteIf
// must see it, down to a change of case or of one trailing space.
func TestPeerBlindWriteConflicts(t *testing.T) {
	eachTarget(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i, peer := range []string{"another value", "Session:abc", "session:abc ", "żółć 😀"} {
			key := "k" + string(rune('0'+i))
			mustSet(t, s, key, []byte("session:abc"), time.Hour)
			v := version(t, s, key)
			peerUpdate(t, s, key, peer)
			wantIs(t, "SetIf after a peer wrote "+peer, s.SetIf(ctx, key, v, []byte("mine"), time.Hour), core.ErrConflict)
			wantIs(t, "DeleteIf after a peer wrote "+peer, s.DeleteIf(ctx, key, v), core.ErrConflict)
			wantStored(t, s, key, []byte(peer))
			wantIs(t, "SetIf with the peer's version", s.SetIf(ctx, key, version(t, s, key), []byte("mine"), time.Hour), nil)
			wantStored(t, s, key, []byte("mine"))
		}
	})
}

// peerUpdate writes value into key's data column as Django does: a plain
// UPDATE through the database, bound as the column's type.
func peerUpdate(t *testing.T, s *Store, key, value string) {
	t.Helper()
	d := s.dialect
	p := d.placeholders(2)
	q := "UPDATE " + d.quote(s.table.Name) + " SET " + d.quote(s.table.DataColumn) + " = " + p[0] +
		" WHERE " + d.quote(s.table.KeyColumn) + " = " + p[1]
	var arg any = []byte(value)
	if s.table.TextData {
		arg = value
	}
	if _, err := s.db.ExecContext(context.Background(), q, arg, key); err != nil {
		t.Fatal(err)
	}
}

// TestMySQLTextCollationIgnoresCase makes sure that
// TestConditionalComparesBytes tests something: on MariaDB, the text column
// that CreateTable makes for Django's layout compares without case and
// trailing spaces, as Django's own does.
func TestMySQLTextCollationIgnoresCase(t *testing.T) {
	s := testStore(t, MySQL, Options{Table: scratchTable(t, MySQL, wideDjango())})
	mustSet(t, s, "k", []byte("Session:abc"), time.Hour)
	var n int
	q := "SELECT count(*) FROM " + s.dialect.quote(s.table.Name) + " WHERE session_data = ? AND session_data = ?"
	if err := s.db.QueryRow(q, "session:abc", "SESSION:ABC  ").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Skip("the server's default collation compares case and trailing spaces")
	}
}

// TestCreateOverExpired creates a key whose row has expired but is still
// there: it counts as absent, so the create replaces it.
func TestCreateOverExpired(t *testing.T) {
	eachTarget(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setAt(t, s, time.Now().Add(-time.Hour), "k", time.Minute) // expired
		wantIs(t, "SetIf(nil) over an expired row", s.SetIf(ctx, "k", nil, []byte("new"), time.Hour), nil)
		wantStored(t, s, "k", []byte("new"))
		wantIs(t, "SetIf(nil) over a live row", s.SetIf(ctx, "k", nil, []byte("newer"), time.Hour), core.ErrConflict)
		wantStored(t, s, "k", []byte("new"))
		// An expired row replaced by one without expiry.
		setAt(t, s, time.Now().Add(-time.Hour), "k2", time.Second)
		wantIs(t, "SetIf(nil, no ttl) over an expired row", s.SetIf(ctx, "k2", nil, []byte("forever"), 0), nil)
		wantStored(t, s, "k2", []byte("forever"))
		// Expired rows are absent for the other methods too.
		setAt(t, s, time.Now().Add(-time.Hour), "k3", time.Minute)
		wantIs(t, "SetIf of an expired row", s.SetIf(ctx, "k3", core.Version("v"), []byte("x"), time.Hour), core.ErrNotFound)
		wantIs(t, "DeleteIf of an expired row", s.DeleteIf(ctx, "k3", core.Version("v")), core.ErrNotFound)
		wantAbsent(t, s, "k3")
	})
}

// TestConditionalLargeValue swaps values of several megabytes that differ
// only in their last byte.
func TestConditionalLargeValue(t *testing.T) {
	eachTarget(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		v1 := bytes.Repeat([]byte("0123456789abcdef"), 2<<20/16)
		v2 := append(bytes.Clone(v1[:len(v1)-1]), 'X')
		v3 := append(bytes.Clone(v1[:len(v1)-1]), 'Y')
		wantIs(t, "SetIf(nil)", s.SetIf(ctx, "big", nil, v1, time.Hour), nil)
		old := version(t, s, "big")
		wantIs(t, "SetIf", s.SetIf(ctx, "big", old, v2, time.Hour), nil)
		wantIs(t, "SetIf with a stale version", s.SetIf(ctx, "big", old, v3, time.Hour), core.ErrConflict)
		wantStored(t, s, "big", v2)
		wantIs(t, "DeleteIf with a stale version", s.DeleteIf(ctx, "big", old), core.ErrConflict)
		wantIs(t, "DeleteIf", s.DeleteIf(ctx, "big", version(t, s, "big")), nil)
		wantAbsent(t, s, "big")
	})
}

// TestConditionalBinaryAndEmpty uses values that a text column stores
// base64-encoded, and the empty value, whose version is empty but not nil.
func TestConditionalBinaryAndEmpty(t *testing.T) {
	eachTarget(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, value := range [][]byte{[]byte("\xff\x00bin"), {}, []byte(textMarker + "x"), []byte("żółć €😀")} {
			mustSet(t, s, "k", value, time.Hour)
			value2, v, err := s.GetVersion(ctx, "k")
			if err != nil || !bytes.Equal(value2, value) || v == nil {
				t.Fatalf("GetVersion = %q, %q, %v; want %q and a version", value2, v, err, value)
			}
			wantIs(t, "SetIf(nil) of an existing key", s.SetIf(ctx, "k", nil, []byte("x"), time.Hour), core.ErrConflict)
			wantIs(t, "SetIf", s.SetIf(ctx, "k", v, []byte("\xfe"), time.Hour), nil)
			wantStored(t, s, "k", []byte("\xfe"))
			wantIs(t, "SetIf with a stale version", s.SetIf(ctx, "k", v, []byte("x"), time.Hour), core.ErrConflict)
		}
		// The version is a copy: changing the value read cannot change it.
		mustSet(t, s, "k", []byte("abc"), time.Hour)
		value, v, err := s.GetVersion(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		value[0] = 'X'
		wantIs(t, "SetIf after changing the value read", s.SetIf(ctx, "k", v, []byte("new"), time.Hour), nil)
	})
}

// TestDeleteIfNilVersion: a nil version stands for "absent", which a live
// row is not.
func TestDeleteIfNilVersion(t *testing.T) {
	s := testStore(t, SQLite, Options{})
	ctx := context.Background()
	mustSet(t, s, "k", []byte{}, time.Hour)
	wantIs(t, "DeleteIf(nil) of a live key", s.DeleteIf(ctx, "k", nil), core.ErrConflict)
	wantStored(t, s, "k", []byte{})
	wantIs(t, "DeleteIf(nil) of an absent key", s.DeleteIf(ctx, "absent", nil), core.ErrNotFound)
}

// TestCreateKeyTooLong: an insert that fails for another reason than an
// existing key reports that error, not a conflict.
func TestCreateKeyTooLong(t *testing.T) {
	for _, d := range []Dialect{Postgres, MySQL} { // SQLite does not enforce lengths
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			s := testStore(t, d, Options{Table: scratchTable(t, d, DjangoTable)})
			err := s.SetIf(context.Background(), strings.Repeat("k", 41), nil, []byte("v"), time.Hour)
			if err == nil || errors.Is(err, core.ErrConflict) || errors.Is(err, core.ErrNotFound) {
				t.Fatalf("SetIf(nil) of a key longer than the column: err = %v, want the database's error", err)
			}
			t.Logf("SetIf: %v", err)
		})
	}
}

func wantAbsent(t *testing.T, s *Store, key string) {
	t.Helper()
	if got, err := s.Get(context.Background(), key); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, got, err)
	}
}
