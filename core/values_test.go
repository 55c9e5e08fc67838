package core_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/cloakroom/cloakroom/core/codec"
)

// storeRaw stores data as a peer would have written it, under a new id,
// and returns the id.
func storeRaw(t *testing.T, m *core.Manager, data string) string {
	t.Helper()
	id := core.RandomID{}.NewID()
	if err := m.Backend.Set(context.Background(), m.KeyPrefix+id, []byte(data), time.Hour); err != nil {
		t.Fatal(err)
	}
	return id
}

// A session is read without building a map of its keys (values.go); it
// must read as Decode's map would, whatever its shape, and a change must
// keep every key.
func TestStoredSessionsReadAsDecoded(t *testing.T) {
	many := make([]string, 12)
	for i := range many {
		many[i] = fmt.Sprintf(`"k%02d":%d`, i, i)
	}
	for _, tc := range []struct{ name, data string }{
		{"small", `{"_permanent":true,"user":"alice","n":1}`},
		{"a key twice", `{"n":1,"user":"alice","n":2}`},
		{"a key twice among many", "{" + strings.Join(many, ",") + `,"k03":"again"}`},
		{"many keys", "{" + strings.Join(many, ",") + "}"},
		{"empty", `{}`},
		{"a dict tag", `{" di":{"n__":5}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			b := newCounting(t)
			m := core.NewManager(b)
			want, err := codec.TaggedJSON{}.Decode([]byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			id := storeRaw(t, m, tc.data)
			b.Calls()
			s, err := m.Load(ctx, id)
			if err != nil || s.IsNew() {
				t.Fatalf("Load: new %v, %v", s.IsNew(), err)
			}
			var keys []string
			for k, v := range want {
				got, ok := s.Get(k)
				if !ok || fmt.Sprint(got) != fmt.Sprint(v) {
					t.Errorf("Get(%q) = %v, %v; want %v", k, got, ok, v)
				}
				if k != "_permanent" {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			if got := s.Keys(); !slices.Equal(got, keys) {
				t.Errorf("Keys = %q, want %q", got, keys)
			}
			if s.Len() != len(keys) {
				t.Errorf("Len = %d, want %d", s.Len(), len(keys))
			}
			if _, err := m.Save(ctx, s); err != nil {
				t.Fatal(err)
			}
			wantCalls(t, b, "get "+m.KeyPrefix+id) // a read writes nothing

			s.Set("added", true)
			if _, err := m.Save(ctx, s); err != nil {
				t.Fatal(err)
			}
			again := reloaded(t, m, s)
			want["added"] = true
			for k, v := range want {
				if got, ok := again.Get(k); !ok || fmt.Sprint(got) != fmt.Sprint(v) {
					t.Errorf("after a change, Get(%q) = %v, %v; want %v", k, got, ok, v)
				}
			}
		})
	}
}

// lender is a Recorder that lends its memory store's bytes, keeping a copy
// of each loan to check that nobody wrote into it.
type lender struct {
	*backendtest.Recorder
	lent, was [][]byte
}

func (l *lender) LendVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	v, version, err := l.Store().LendVersion(ctx, key)
	l.lent, l.was = append(l.lent, v), append(l.was, slices.Clone(v))
	return v, version, err
}

// A Lender's bytes are borrowed only by a codec that copies what it keeps
// (DecodeFields), and come back untouched after the session was read,
// changed and saved.
func TestReadsBorrowOnlyWhenTheCodecCopies(t *testing.T) {
	for _, tc := range []struct {
		codec  core.Codec
		borrow bool
	}{{nil, true}, {codec.TaggedJSON{}, true}, {codec.JSON{}, false}} {
		t.Run(fmt.Sprintf("%T", tc.codec), func(t *testing.T) {
			ctx := context.Background()
			l := &lender{Recorder: newCounting(t)}
			m := core.NewManager(l)
			m.Codec = tc.codec
			id := storeRaw(t, m, `{"user":"alice","n":1}`)
			s, err := m.Load(ctx, id)
			if err != nil || s.IsNew() {
				t.Fatalf("Load: new %v, %v", s.IsNew(), err)
			}
			if borrowed := len(l.lent) > 0; borrowed != tc.borrow {
				t.Fatalf("borrowed %v, want %v", borrowed, tc.borrow)
			}
			if user, _ := s.GetString("user"); user != "alice" {
				t.Errorf("user = %q, want alice", user)
			}
			s.Set("user", "bob")
			s.Set("n", 2)
			if _, err := m.Save(ctx, s); err != nil {
				t.Fatal(err)
			}
			for i := range l.lent {
				if !slices.Equal(l.lent[i], l.was[i]) {
					t.Errorf("lent %q came back as %q", l.was[i], l.lent[i])
				}
			}
			if user, _ := reloaded(t, m, s).GetString("user"); user != "bob" {
				t.Errorf("after the save, user = %q, want bob", user)
			}
		})
	}
}
