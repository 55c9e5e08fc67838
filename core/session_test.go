package core_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
)

func TestTypedGetters(t *testing.T) {
	ctx := context.Background()
	m := core.NewManager(newCounting(t))
	s := m.New(ctx)
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	s.Set("s", "x")
	s.Set("i", 7)
	s.Set("f", 1.5)
	s.Set("b", true)
	s.Set("raw", []byte{0, 1})
	s.Set("when", when)
	m.Save(ctx, s)
	s, _ = m.Load(ctx, s.ID()) // through the codec: ints come back as int64

	if v, ok := s.GetString("s"); v != "x" || !ok {
		t.Errorf("GetString = %q, %v", v, ok)
	}
	if v, ok := s.GetInt("i"); v != 7 || !ok {
		t.Errorf("GetInt = %d, %v", v, ok)
	}
	if v, ok := s.GetFloat("f"); v != 1.5 || !ok {
		t.Errorf("GetFloat = %v, %v", v, ok)
	}
	if v, ok := s.GetFloat("i"); v != 7 || !ok {
		t.Errorf("GetFloat of an int = %v, %v", v, ok)
	}
	if v, ok := s.GetBool("b"); !v || !ok {
		t.Errorf("GetBool = %v, %v", v, ok)
	}
	if v, ok := s.GetBytes("raw"); string(v) != "\x00\x01" || !ok {
		t.Errorf("GetBytes = %q, %v", v, ok)
	}
	if v, ok := s.GetTime("when"); !v.Equal(when) || !ok {
		t.Errorf("GetTime = %v, %v", v, ok)
	}
	if _, ok := s.GetInt("s"); ok {
		t.Error("GetInt of a string succeeded")
	}
	if _, ok := s.GetString("absent"); ok {
		t.Error("GetString of an absent key succeeded")
	}
	if got := s.Keys(); !slices.Equal(got, []string{"b", "f", "i", "raw", "s", "when"}) {
		t.Errorf("Keys = %q", got)
	}
}

type cart struct {
	Items []string `json:"items"`
	Total int      `json:"total"`
}

func TestGenericGet(t *testing.T) {
	ctx := context.Background()
	m := core.NewManager(newCounting(t))
	s := m.New(ctx)
	s.Set("cart", cart{Items: []string{"tea"}, Total: 3})
	m.Save(ctx, s)
	s, _ = m.Load(ctx, s.ID()) // a struct comes back as a map

	c, err := core.Get[cart](s, "cart")
	if err != nil || c.Total != 3 || len(c.Items) != 1 || c.Items[0] != "tea" {
		t.Fatalf("Get[cart] = %+v, %v", c, err)
	}
	if _, err := core.Get[cart](s, "absent"); !errors.Is(err, core.ErrNoKey) {
		t.Fatalf("Get of an absent key: %v, want ErrNoKey", err)
	}
	s.Set("n", "not a number")
	if _, err := core.Get[int](s, "n"); err == nil || !strings.Contains(err.Error(), `"n"`) {
		t.Fatalf("Get[int] of a string: %v, want an error naming the key", err)
	}
}

func TestFlashesMatchFlask(t *testing.T) {
	ctx := context.Background()
	m := core.NewManager(newCounting(t))
	s := m.New(ctx)
	s.Flash("message", "Saved!")
	s.Flash("error", "Oops")
	v, _ := s.Get("_flashes")
	b, err := codec.MarshalTagged(v)
	// The interop vector "flashes", as Flask writes _flashes.
	if want := `[{" t":["message","Saved!"]},{" t":["error","Oops"]}]`; string(b) != want || err != nil {
		t.Fatalf("_flashes = %s, %v; want %s", b, err, want)
	}
	m.Save(ctx, s)
	s, _ = m.Load(ctx, s.ID())
	got := s.Flashes()
	want := []core.Flash{{Category: "message", Message: "Saved!"}, {Category: "error", Message: "Oops"}}
	if !slices.Equal(got, want) {
		t.Fatalf("Flashes = %v, want %v", got, want)
	}
	if s.Flashes() != nil || !s.IsModified() {
		t.Fatal("Flashes must consume the messages")
	}
}

func TestPop(t *testing.T) {
	m := core.NewManager(newCounting(t))
	s := m.New(context.Background())
	s.Set("a", "x")
	if v, ok := s.Pop("a"); v != "x" || !ok {
		t.Fatalf("Pop = %v, %v", v, ok)
	}
	if _, ok := s.Pop("a"); ok {
		t.Fatal("Pop of a popped key succeeded")
	}
}

func TestIDGenerators(t *testing.T) {
	for _, g := range []core.IDGenerator{core.RandomID{}, core.UUID4ID{}, core.DjangoID{}} {
		seen := map[string]bool{}
		for range 200 {
			id := g.NewID()
			if !g.Valid(id) || seen[id] {
				t.Fatalf("%T: id %q invalid or repeated", g, id)
			}
			seen[id] = true
		}
	}
	id := core.UUID4ID{}.NewID()
	if id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) {
		t.Errorf("UUID4ID %q is not a version 4 UUID", id)
	}
	for g, bad := range map[core.IDGenerator][]string{
		core.RandomID{}: {"", "x", strings.Repeat("A", 42) + "B", strings.Repeat("A", 42) + "+", strings.Repeat("A", 44)},
		core.UUID4ID{}:  {"b8ebbf02-cc7a-4b0b-824f-22a984c8c0bX", "B8EBBF02-CC7A-4B0B-824F-22A984C8C0B8", "b8ebbf02cc7a4b0b824f22a984c8c0b8"},
		core.DjangoID{}: {strings.Repeat("A", 32), strings.Repeat("a", 31), strings.Repeat("a", 40)},
	} {
		for _, id := range bad {
			if g.Valid(id) {
				t.Errorf("%T.Valid(%q) = true", g, id)
			}
		}
	}
	if !(core.UUID4ID{}).Valid("b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8") {
		t.Error("UUID4ID rejects the Quart-Session vector's sid")
	}
	// RandomID checks its characters several at a time: a bad one must be
	// caught wherever it is.
	good := core.RandomID{}.NewID()
	for i := range len(good) {
		for _, c := range []byte{'+', '/', '=', '.', 0, 0x80, 0xff} {
			id := []byte(good)
			id[i] = c
			if (core.RandomID{}).Valid(string(id)) {
				t.Errorf("RandomID.Valid(%q) = true, with %q at %d", id, c, i)
			}
		}
	}
}

func TestReservedKeysCannotBeChanged(t *testing.T) {
	var reports []error
	m := core.NewManager(newCounting(t))
	m.ErrorHandler = func(_ context.Context, err error) { reports = append(reports, err) }
	m.Protection = core.ProtectAddress
	m.AbsoluteTimeout = time.Hour
	ex := newExchange("192.0.2.1:1")
	r := m.Begin(ex)
	s, err := r.Session(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Flash("message", "hi")
	for _, k := range []string{"_permanent", "_addr", "_created", "_flashes"} {
		if !core.Reserved(k) {
			t.Errorf("Reserved(%q) = false", k)
		}
		before, _ := s.Get(k)
		s.Set(k, "forged")
		s.Delete(k)
		if _, ok := s.Pop(k); ok {
			t.Errorf("Pop(%q) succeeded", k)
		}
		if _, err := s.Update(k, func(any) (any, error) { return "forged", nil }); !errors.Is(err, core.ErrReservedKey) {
			t.Errorf("Update(%q) = %v, want ErrReservedKey", k, err)
		}
		if after, _ := s.Get(k); !reflect.DeepEqual(after, before) {
			t.Errorf("%s changed from %v to %v through the data API", k, before, after)
		}
	}
	if core.Reserved("user") || core.Reserved("_auth_user_id") {
		t.Error("an application key is reserved")
	}
	if len(reports) != 12 || !errors.Is(reports[0], core.ErrReservedKey) {
		t.Errorf("reports = %v, want one ErrReservedKey per refused Set, Delete and Pop", reports)
	}
	if f := s.Flashes(); len(f) != 1 || f[0].Message != "hi" {
		t.Errorf("Flashes = %v, want the one flashed: the library still owns _flashes", f)
	}
}
