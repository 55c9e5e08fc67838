package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

func TestConformance(t *testing.T) {
	s := memory.New(memory.Options{})
	t.Cleanup(func() { s.Close() })
	backendtest.Run(t, s)
}

// LendVersion hands out the stored bytes themselves; they must stay what
// they were after the key is written again, since the store never writes
// into a value, and GetVersion's copy must not reach them.
func TestLendVersion(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{CleanupInterval: -1})
	defer s.Close()
	if _, _, err := s.LendVersion(ctx, "k"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("LendVersion of an absent key: %v, want ErrNotFound", err)
	}
	if err := s.Set(ctx, "k", []byte("first"), time.Hour); err != nil {
		t.Fatal(err)
	}
	lent, version, err := s.LendVersion(ctx, "k")
	if err != nil || string(lent) != "first" {
		t.Fatalf("LendVersion = %q, %v; want first", lent, err)
	}
	copied, _, err := s.GetVersion(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	copy(copied, "XXXXX")
	if err := s.SetIf(ctx, "k", version, []byte("second"), time.Hour); err != nil {
		t.Fatalf("SetIf on the lent version: %v", err)
	}
	if string(lent) != "first" {
		t.Errorf("the lent bytes became %q after a copy was changed and the key written", lent)
	}
	if now, _, err := s.LendVersion(ctx, "k"); err != nil || string(now) != "second" {
		t.Errorf("LendVersion after SetIf = %q, %v; want second", now, err)
	}
	if err := s.Set(ctx, "short", []byte("v"), time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if _, _, err := s.LendVersion(ctx, "short"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("LendVersion of an expired key: %v, want ErrNotFound", err)
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{MaxEntries: 16, CleanupInterval: -1}) // one key per shard
	defer s.Close()
	for i := range 1000 {
		if err := s.Set(ctx, fmt.Sprint(i), []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Len(); n > 16 {
		t.Fatalf("Len = %d after 1000 writes, want at most 16", n)
	}
	if _, err := s.Get(ctx, "999"); err != nil {
		t.Fatalf("the most recent key was evicted: %v", err)
	}
}

func TestSweeperRemovesExpired(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{CleanupInterval: 10 * time.Millisecond})
	defer s.Close()
	_ = s.Set(ctx, "gone", []byte("v"), 20*time.Millisecond)
	_ = s.Set(ctx, "kept", []byte("v"), time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for s.Len() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("Len = %d, want 1: the sweeper did not remove the expired key", s.Len())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := s.Get(ctx, "gone"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get(gone) err = %v", err)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	s := memory.New(memory.Options{})
	s.Close()
	s.Close()
	if err := s.Set(context.Background(), "k", []byte("v"), 0); err != nil {
		t.Fatalf("Set after Close: %v", err)
	}
}

func TestByteBound(t *testing.T) {
	ctx := context.Background()
	const bound = 1 << 20
	s := memory.New(memory.Options{MaxBytes: bound, CleanupInterval: -1})
	defer s.Close()
	value := make([]byte, 4<<10)
	const n = 1000 // four times the bound
	for i := range n {
		if err := s.Set(ctx, fmt.Sprint("session:", i), value, time.Hour); err != nil {
			t.Fatal(err)
		}
		if used := s.Bytes(); used > bound {
			t.Fatalf("after %d writes of 4 KiB, Bytes = %d, over MaxBytes = %d", i+1, used, bound)
		}
	}
	perKey := int64(len(value) + len("session:999") + memory.EntryOverhead)
	if most := int(bound / perKey); s.Len() > most {
		t.Fatalf("Len = %d, want at most %d keys of %d bytes", s.Len(), most, perKey)
	}
	if used, want := s.Bytes(), int64(s.Len())*perKey; used > want {
		t.Fatalf("Bytes = %d for %d keys, want at most %d", used, s.Len(), want)
	}
	if _, err := s.Get(ctx, fmt.Sprint("session:", n-1)); err != nil {
		t.Fatalf("the most recent key was evicted: %v", err)
	}

	// Rewriting, deleting and purging keep the count exact.
	for i := range n {
		_ = s.Delete(ctx, fmt.Sprint("session:", i))
	}
	if s.Len() != 0 || s.Bytes() != 0 {
		t.Fatalf("after deleting every key: Len = %d, Bytes = %d", s.Len(), s.Bytes())
	}
	_ = s.Set(ctx, "k", []byte("12345"), time.Hour)
	_ = s.Set(ctx, "k", []byte("1"), time.Hour)
	if got, want := s.Bytes(), int64(1+1+memory.EntryOverhead); got != want {
		t.Fatalf("Bytes = %d after rewriting a key, want %d", got, want)
	}

	// A value too large for a shard is refused, and the old one kept.
	huge := make([]byte, bound/16)
	if err := s.Set(ctx, "k", huge, time.Hour); !errors.Is(err, memory.ErrValueTooLarge) {
		t.Fatalf("Set of a sixteenth of MaxBytes: err = %v, want ErrValueTooLarge", err)
	}
	if err := s.SetIf(ctx, "new", nil, huge, time.Hour); !errors.Is(err, memory.ErrValueTooLarge) {
		t.Fatalf("SetIf of a sixteenth of MaxBytes: err = %v, want ErrValueTooLarge", err)
	}
	if b, err := s.Get(ctx, "k"); err != nil || string(b) != "1" {
		t.Fatalf("Get after a refused write = %q, %v", b, err)
	}
}

func TestByteBoundDefaults(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{CleanupInterval: -1}) // 64 MiB: 4 MiB a shard
	defer s.Close()
	if err := s.Set(ctx, "k", make([]byte, 4<<20), time.Hour); !errors.Is(err, memory.ErrValueTooLarge) {
		t.Fatalf("Set of 4 MiB with the default bound: err = %v, want ErrValueTooLarge", err)
	}
	if err := s.Set(ctx, "k", make([]byte, 3<<20), time.Hour); err != nil {
		t.Fatalf("Set of 3 MiB with the default bound: %v", err)
	}

	unbounded := memory.New(memory.Options{MaxBytes: -1, CleanupInterval: -1})
	defer unbounded.Close()
	if err := unbounded.Set(ctx, "k", make([]byte, 8<<20), time.Hour); err != nil {
		t.Fatalf("Set of 8 MiB with no byte bound: %v", err)
	}
	if got, want := unbounded.Bytes(), int64(8<<20+1+memory.EntryOverhead); got != want {
		t.Fatalf("Bytes = %d with no byte bound, want %d", got, want)
	}
}

// oneShotFloods are floods of sessions written once and never read again,
// ten times what the store holds, in keys and in bytes.
var oneShotFloods = []struct {
	name string
	opts memory.Options
	size int // of a one-shot session
	n    int // one-shot writes
}{
	{"entries", memory.Options{MaxEntries: 1000}, 100, 10 * 1000},
	{"bytes", memory.Options{MaxBytes: 4 << 20}, 16 << 10, 10 * (4 << 20) / (16 << 10)},
}

// TestFloodKeepsSessionsInUse: 50 sessions whose users come back survive
// a flood of ten times the store's capacity in sessions that never come
// back. The users come back less often than the flood fills the store, so
// that a plain LRU list evicts every one of them between two visits.
func TestFloodKeepsSessionsInUse(t *testing.T) {
	for _, tc := range oneShotFloods {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tc.opts.CleanupInterval = -1
			s := memory.New(tc.opts)
			defer s.Close()
			inUse := make([]string, 50)
			for i := range inUse {
				inUse[i] = fmt.Sprint("in-use:", i)
				if err := s.SetIf(ctx, inUse[i], nil, make([]byte, 1024), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			visit := func(when string) {
				t.Helper()
				for _, key := range inUse {
					b, version, err := s.GetVersion(ctx, key)
					if err != nil {
						t.Fatalf("%s, a session in use was evicted: %v", when, err)
					}
					if err := s.SetIf(ctx, key, version, b, time.Hour); err != nil {
						t.Fatal(err)
					}
				}
			}
			visit("on the first visit")
			oneShot := make([]byte, tc.size)
			for i := range tc.n {
				if err := s.SetIf(ctx, fmt.Sprint("anonymous:", i), nil, oneShot, time.Hour); err != nil {
					t.Fatal(err)
				}
				if (i+1)%(tc.n/4) == 0 { // every 2.5 times the capacity
					visit(fmt.Sprintf("after %d one-shot sessions", i+1))
				}
			}
			if most := tc.opts.MaxEntries + 15; tc.opts.MaxEntries > 0 && s.Len() > most {
				t.Fatalf("Len = %d, over MaxEntries", s.Len())
			}
			if tc.opts.MaxBytes > 0 && s.Bytes() > tc.opts.MaxBytes {
				t.Fatalf("Bytes = %d, over MaxBytes", s.Bytes())
			}
		})
	}
}

// TestProtectedKeysStillEvicted: when every key is read, the bound still
// holds, and a key just written is not the one evicted.
func TestProtectedKeysStillEvicted(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{MaxEntries: 160, MaxBytes: 64 << 10, CleanupInterval: -1})
	defer s.Close()
	for i := range 2000 {
		key := fmt.Sprint(i)
		if err := s.Set(ctx, key, make([]byte, i%300), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, key); err != nil {
			t.Fatalf("Get(%s) right after Set: %v", key, err)
		}
		if err := s.Touch(ctx, key, time.Hour); err != nil {
			t.Fatalf("Touch(%s): %v", key, err)
		}
		if s.Len() > 160 || s.Bytes() > 64<<10 {
			t.Fatalf("after %d keys: Len = %d, Bytes = %d", i+1, s.Len(), s.Bytes())
		}
	}
	// A protected key that is rewritten larger stays within the bounds.
	if err := s.Set(ctx, "1999", make([]byte, 3000), time.Hour); err != nil {
		t.Fatal(err)
	}
	if s.Bytes() > 64<<10 {
		t.Fatalf("Bytes = %d after growing a key", s.Bytes())
	}
	if b, err := s.Get(ctx, "1999"); err != nil || len(b) != 3000 {
		t.Fatalf("Get of the key just rewritten: %d bytes, %v", len(b), err)
	}
}

// loginUsers stores n small sessions of users and reads each once, as a
// login and the page after it do, and returns their keys.
func loginUsers(t *testing.T, s *memory.Store, n int) []string {
	t.Helper()
	ctx := context.Background()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("session:user-%02d", i)
		value := fmt.Appendf(nil, `{"user":"u%d","_created":1700000000,"_flash":{"message":"Logged in as u%d."}}`, i, i)
		if err := s.SetIf(ctx, keys[i], nil, value, time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.GetVersion(ctx, keys[i]); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// usersKept counts the keys still readable.
func usersKept(s *memory.Store, keys []string) int {
	kept := 0
	for _, key := range keys {
		if _, _, err := s.GetVersion(context.Background(), key); err == nil {
			kept++
		}
	}
	return kept
}

// TestFloodOfReturningLargeSessions is issue 15's flood at the store: 20
// users log in and read their session once; then new sessions each take
// four writes of 60 KB, each read before the next write as the Manager
// does (GetVersion, then SetIf), so that they are protected too. 350 of
// them are 84 MB through a store of 64 MiB; with a plain LRU of protected
// keys, 0 to 6 users of 20 kept their session. In the second case the
// users come back every 200 flood sessions (48 MB: the 1.5 s at
// its 34 MB/s) through a flood three times as long; a plain LRU kept about
// half of them. Every user keeps their session now. Which shard a key
// falls in varies from run to run, and the outcome does not: even a shard
// that took the whole flood would see L rise by a fraction of a user's
// lead (TestFloodManyTimesCapacity floods one shard a hundred times over).
func TestFloodOfReturningLargeSessions(t *testing.T) {
	const writes, step = 4, 60_000
	for _, tc := range []struct {
		name     string
		sessions int
		revisit  int // flood sessions between two visits of the users; 0: none
	}{
		{"users read once", 350, 0},
		{"users come back", 1050, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := memory.New(memory.Options{CleanupInterval: -1})
			defer s.Close()
			users := loginUsers(t, s, 20)
			big := make([]byte, writes*step)
			lost := 0
			const batch = 8 // sessions at a time, as eight concurrent clients
			for first := 0; first < tc.sessions; first += batch {
				last := min(first+batch, tc.sessions)
				for w := 1; w <= writes; w++ {
					for i := first; i < last; i++ {
						key := fmt.Sprint("session:flood-", i)
						_, version, err := s.GetVersion(ctx, key)
						if w > 1 && err != nil {
							lost++ // evicted between two requests: the Manager starts it again
						}
						if err := s.SetIf(ctx, key, version, big[:w*step], time.Hour); err != nil {
							t.Fatal(err)
						}
					}
				}
				if tc.revisit > 0 && last/tc.revisit != first/tc.revisit {
					usersKept(s, users) // checked at the end: a session evicted stays gone
				}
			}
			if used := s.Bytes(); used > 64<<20 {
				t.Fatalf("Bytes = %d, over the default MaxBytes", used)
			}
			flood := 0
			for i := range tc.sessions {
				if _, err := s.Get(ctx, fmt.Sprint("session:flood-", i)); err == nil {
					flood++
				}
			}
			if flood == tc.sessions {
				t.Fatal("every flood session is still stored: the flood did not fill the store")
			}
			kept := usersKept(s, users)
			t.Logf("%d of %d users kept; %d of %d flood sessions stored at the end, %d lost between two of their writes",
				kept, len(users), flood, tc.sessions, lost)
			if kept != len(users) {
				t.Fatalf("%d of %d users kept", kept, len(users))
			}
		})
	}
}

// TestFloodOfOneShotSessions: users who read their session once keep it
// through a flood, ten times the store's capacity, of sessions written once
// and never read again (clients that keep no cookies): the flood only ever
// evicts its own kind, from probation.
func TestFloodOfOneShotSessions(t *testing.T) {
	for _, tc := range oneShotFloods {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tc.opts.CleanupInterval = -1
			s := memory.New(tc.opts)
			defer s.Close()
			users := loginUsers(t, s, 20)
			oneShot := make([]byte, tc.size)
			for i := range tc.n {
				if err := s.SetIf(ctx, fmt.Sprint("session:anonymous-", i), nil, oneShot, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			if kept := usersKept(s, users); kept != len(users) {
				t.Fatalf("%d of %d users kept", kept, len(users))
			}
		})
	}
}

// BenchmarkSessionWrites: 50 goroutines saving one session, conditional
// (the default) against the blind last-save-wins write, and 50 sessions.
func BenchmarkSessionWrites(b *testing.B) {
	s := memory.New(memory.Options{})
	b.Cleanup(func() { s.Close() })
	b.Run("OneSession", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, s, 1, nil) })
	b.Run("OneSessionBlind", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, backendtest.Plain(s), 1, nil) })
	b.Run("50Sessions", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, s, 50, nil) })
}

// BenchmarkGet reads a stored 1 KB session, as every request does: the
// only allocation is the caller's copy of the value.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	s := memory.New(memory.Options{CleanupInterval: -1})
	b.Cleanup(func() { s.Close() })
	value := make([]byte, 1024)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("session:", i)
		if err := s.Set(ctx, keys[i], value, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Get(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetVersion", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, _, err := s.GetVersion(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTouch extends the expiry of a stored session, as the Manager
// does once a TouchInterval when an idle timeout is set: no allocation.
func BenchmarkTouch(b *testing.B) {
	ctx := context.Background()
	s := memory.New(memory.Options{CleanupInterval: -1})
	b.Cleanup(func() { s.Close() })
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("session:", i)
		if err := s.Set(ctx, keys[i], make([]byte, 1024), time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.Touch(ctx, keys[i%len(keys)], time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChurn is the eviction path: a full store where each step
// creates a session, reads and saves it once, as a new visitor's first
// two requests do, so that every step admits a key to the protected
// segment, pushes one out and evicts one.
func BenchmarkChurn(b *testing.B) {
	ctx := context.Background()
	s := memory.New(memory.Options{MaxEntries: 16 << 10, CleanupInterval: -1})
	b.Cleanup(func() { s.Close() })
	value := make([]byte, 200)
	keys := make([]string, 64<<10) // four times what the store holds
	for i := range keys {
		keys[i] = fmt.Sprint("session:", i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		key := keys[i%len(keys)]
		_ = s.Delete(ctx, key) // from the previous lap, if it survived
		if err := s.SetIf(ctx, key, nil, value, time.Hour); err != nil {
			b.Fatal(err)
		}
		_, version, err := s.GetVersion(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.SetIf(ctx, key, version, value, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
