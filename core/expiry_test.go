package core_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// ttlRecorder is a Recorder that remembers the time to live of each write
// and touch, by key.
type ttlRecorder struct {
	*backendtest.Recorder
	mu   sync.Mutex
	ttls map[string]time.Duration
}

func newTTLRecorder(t *testing.T) *ttlRecorder {
	return &ttlRecorder{Recorder: backendtest.NewRecorder(t), ttls: map[string]time.Duration{}}
}

func (r *ttlRecorder) note(key string, ttl time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ttls[key] = ttl
}

func (r *ttlRecorder) ttl(key string) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ttls[key]
}

func (r *ttlRecorder) SetIf(ctx context.Context, key string, v core.Version, value []byte, ttl time.Duration) error {
	r.note(key, ttl)
	return r.Recorder.SetIf(ctx, key, v, value, ttl)
}

func (r *ttlRecorder) Touch(ctx context.Context, key string, ttl time.Duration) error {
	r.note(key, ttl)
	return r.Recorder.Touch(ctx, key, ttl)
}

// expiryManager returns a store Manager on a clock of the test's, with a
// one-hour Lifetime.
func expiryManager(t *testing.T) (*core.Manager, *ttlRecorder, *clock) {
	b := newTTLRecorder(t)
	m := core.NewManager(b)
	m.Lifetime = time.Hour
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	core.SetClock(m, clk.Now)
	return m, b, clk
}

const (
	day   = 24 * time.Hour
	month = 30 * day
)

func remember(s *core.Session) {
	s.Set("user", "alice")
	s.SetExpiry(core.Expiry{Lifetime: month, Idle: -1})
}

func forget(s *core.Session) {
	s.Set("user", "bob")
	s.SetPermanent(false)
	s.SetExpiry(core.Expiry{Idle: 2 * time.Hour})
}

// A remembered and a forgotten login side by side: each gets its own
// stored time to live, cookie and ExpiresAt.
func TestExpiryRememberMe(t *testing.T) {
	m, b, clk := expiryManager(t)
	m.MaxLifetime = month
	var rememberedAt, forgottenAt time.Time
	long := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) {
		remember(s)
		rememberedAt = s.ExpiresAt()
	}).setCookie("session")
	short := serve(t, m, "", "127.0.0.1:2", func(s *core.Session) {
		forget(s)
		forgottenAt = s.ExpiresAt()
	}).setCookie("session")

	if long.MaxAge != int(month/time.Second) || !long.Expires.Equal(clk.Now().Add(month)) {
		t.Errorf("remembered cookie: Max-Age %d, Expires %v; want 30 days", long.MaxAge, long.Expires)
	}
	if got := b.ttl("session:" + long.Value); got != month {
		t.Errorf("remembered session stored for %v, want 30 days", got)
	}
	if !rememberedAt.Equal(clk.Now().Add(month)) {
		t.Errorf("remembered ExpiresAt = %v", rememberedAt)
	}
	if short.MaxAge != 0 || !short.Expires.IsZero() {
		t.Errorf("forgotten cookie carries an expiry: Max-Age %d, Expires %v", short.MaxAge, short.Expires)
	}
	if got := b.ttl("session:" + short.Value); got != 2*time.Hour {
		t.Errorf("forgotten session stored for %v, want its idle timeout, 2h", got)
	}
	if !forgottenAt.Equal(clk.Now().Add(2 * time.Hour)) {
		t.Errorf("forgotten ExpiresAt = %v", forgottenAt)
	}

	// An hour and a half later both are alive; a read of the forgotten
	// one touches it for another two hours, the remembered one is left alone.
	clk.Advance(90 * time.Minute)
	serve(t, m, short.Value, "127.0.0.1:2", func(s *core.Session) {
		if u, _ := s.GetString("user"); u != "bob" {
			t.Fatalf("forgotten session lost within its idle timeout: %q", u)
		}
		if e := s.Expiry(); e.Idle != 2*time.Hour || e.Lifetime != 0 {
			t.Errorf("Expiry() = %+v", e)
		}
	})
	if got := b.ttl("session:" + short.Value); got != 2*time.Hour {
		t.Errorf("touch of the forgotten session: ttl %v, want 2h", got)
	}
	b.Calls()
	serve(t, m, long.Value, "127.0.0.1:1", func(s *core.Session) {
		if u, _ := s.GetString("user"); u != "alice" {
			t.Fatalf("remembered session lost: %q", u)
		}
	})
	if calls := b.Calls(); len(calls) != 1 {
		t.Errorf("a read of a session without idle timeout made %q, want one get", calls)
	}
}

// Without MaxLifetime a session may shorten its Manager's limits but not
// exceed them, nor turn its Manager's idle timeout off.
func TestExpiryWithinTheManagersLimits(t *testing.T) {
	m, b, clk := expiryManager(t)
	m.IdleTimeout = 20 * time.Minute
	id := ""
	c := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) {
		remember(s)
		id = s.ID()
		if want := clk.Now().Add(20 * time.Minute); !s.ExpiresAt().Equal(want) {
			t.Errorf("ExpiresAt = %v, want the Manager's idle timeout", s.ExpiresAt())
		}
	}).setCookie("session")
	if got := b.ttl("session:" + id); got != 20*time.Minute {
		t.Errorf("stored for %v, want the Manager's 20m idle timeout", got)
	}
	if c.MaxAge != int(time.Hour/time.Second) {
		t.Errorf("cookie Max-Age %d, want the Manager's Lifetime", c.MaxAge)
	}

	serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		s.SetExpiry(core.Expiry{Idle: 5 * time.Minute})
	})
	if got := b.ttl("session:" + id); got != 5*time.Minute {
		t.Errorf("a shorter idle timeout: stored for %v, want 5m", got)
	}
}

// AbsoluteTimeout and a session's deadline cap everything else.
func TestExpiryCapped(t *testing.T) {
	m, b, clk := expiryManager(t)
	m.MaxLifetime = month
	m.AbsoluteTimeout = 3 * time.Hour
	var id string
	c := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) { remember(s); id = s.ID() }).setCookie("session")
	if got := b.ttl("session:" + id); got != 3*time.Hour {
		t.Errorf("stored for %v, want AbsoluteTimeout's 3h", got)
	}
	if c.MaxAge != int(3*time.Hour/time.Second) {
		t.Errorf("cookie Max-Age %d, want 3h", c.MaxAge)
	}

	deadline := clk.Now().Add(10 * time.Minute)
	serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		s.SetExpiry(core.Expiry{Lifetime: month, Deadline: deadline})
		if !s.ExpiresAt().Equal(deadline) {
			t.Errorf("ExpiresAt = %v, want the deadline %v", s.ExpiresAt(), deadline)
		}
	})
	if got := b.ttl("session:" + id); got != 10*time.Minute {
		t.Errorf("stored for %v, want 10m to the deadline", got)
	}
}

// Regenerate keeps a session's expiry; Clear and SetExpiry(Expiry{})
// return it to the Manager's; its keys are the Manager's, not the
// application's.
func TestExpiryKeptAndCleared(t *testing.T) {
	m, b, _ := expiryManager(t)
	m.MaxLifetime = month
	var refused int
	m.ErrorHandler = func(_ context.Context, err error) {
		if !errors.Is(err, core.ErrReservedKey) {
			t.Errorf("unexpected error: %v", err)
		}
		refused++
	}
	c := serve(t, m, "", "127.0.0.1:1", remember).setCookie("session")
	regenerated := serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		s.Regenerate()
		if keys := s.Keys(); len(keys) != 1 || keys[0] != "user" {
			t.Errorf("Keys() = %q", keys)
		}
	}).setCookie("session")
	if regenerated == nil || regenerated.Value == c.Value {
		t.Fatal("Regenerate sent no new cookie")
	}
	if got := b.ttl("session:" + regenerated.Value); got != month {
		t.Errorf("regenerated session stored for %v, want 30 days", got)
	}
	serve(t, m, regenerated.Value, "127.0.0.1:1", func(s *core.Session) {
		if e := s.Expiry(); e.Lifetime != month || e.Idle != -1 {
			t.Errorf("Expiry() after Regenerate = %+v", e)
		}
		for _, k := range []string{"_lifetime", "_idle", "_deadline"} {
			if !core.Reserved(k) {
				t.Errorf("%q is not reserved", k)
			}
			s.Set(k, 1)
		}
		if e := s.Expiry(); e.Lifetime != month || refused != 3 {
			t.Errorf("Set of a reserved key changed the expiry: %+v (%d refused)", e, refused)
		}
		s.SetExpiry(core.Expiry{})
	})
	if got := b.ttl("session:" + regenerated.Value); got != time.Hour {
		t.Errorf("after SetExpiry(Expiry{}): stored for %v, want the Manager's hour", got)
	}

	// A session that holds nothing but an expiry is not stored.
	ex := serve(t, m, "", "127.0.0.1:3", func(s *core.Session) { s.SetExpiry(core.Expiry{Lifetime: day}) })
	if ex.setCookie("session") != nil {
		t.Error("a session holding only its expiry was stored")
	}
	// Clear ends it.
	serve(t, m, regenerated.Value, "127.0.0.1:1", func(s *core.Session) {
		s.SetExpiry(core.Expiry{Lifetime: day})
		s.Clear()
		s.Set("again", true)
		if e := s.Expiry(); e != (core.Expiry{}) {
			t.Errorf("Expiry() after Clear = %+v", e)
		}
	})
}

// A read-only request keeps a session alive under its own idle timeout
// even when the Manager has none.
func TestExpiryOwnIdleTouches(t *testing.T) {
	m, b, clk := expiryManager(t)
	var reported error
	m.ErrorHandler = func(_ context.Context, err error) { reported = err }
	serve(t, m, "", "127.0.0.1:1", func(s *core.Session) { s.SetExpiry(core.Expiry{Idle: time.Minute}) })
	if !errors.Is(reported, core.ErrConfig) {
		t.Errorf("an idle timeout the Manager cannot honour: reported %v, want ErrConfig", reported)
	}
	m.MaxLifetime = day
	c := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) {
		s.Set("user", "carol")
		s.SetExpiry(core.Expiry{Idle: 10 * time.Minute})
	}).setCookie("session")
	clk.Advance(5 * time.Minute)
	b.Calls()
	serve(t, m, c.Value, "127.0.0.1:1", nil)
	want := []string{"get session:" + c.Value, "touch session:" + c.Value}
	if got := b.Calls(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("calls = %q, want %q", got, want)
	}
	if got := b.ttl("session:" + c.Value); got != 10*time.Minute {
		t.Errorf("touched for %v, want 10m", got)
	}
}

// Cookie sessions hold their own expiry too: the signature's age is
// checked against the session's lifetime and idle timeout.
func TestExpiryInCookies(t *testing.T) {
	m, err := core.NewCookieManager("a secret of at least thirty-two bytes!")
	if err != nil {
		t.Fatal(err)
	}
	m.Lifetime = day
	m.MaxLifetime = month
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	core.SetClock(m, clk.Now)
	long := serve(t, m, "", "127.0.0.1:1", remember).setCookie("session")
	short := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) {
		s.Set("user", "bob")
		s.SetExpiry(core.Expiry{Idle: time.Hour})
	}).setCookie("session")
	plain := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) { s.Set("user", "dan") }).setCookie("session")
	if long.MaxAge != int(month/time.Second) {
		t.Errorf("remembered cookie Max-Age %d, want 30 days", long.MaxAge)
	}

	clk.Advance(50 * time.Minute) // within the hour: the idle one is signed again
	renewed := serve(t, m, short.Value, "127.0.0.1:1", nil).setCookie("session")
	if renewed == nil {
		t.Fatal("a read due for a touch did not sign the cookie again")
	}
	clk.Advance(50 * time.Minute)
	alive := func(name, value string, want bool) {
		t.Helper()
		serve(t, m, value, "127.0.0.1:1", func(s *core.Session) {
			if s.IsNew() == want {
				t.Errorf("%s after %v: new=%v, want alive=%v", name, clk.Now().Sub(time.Unix(1_700_000_000, 0)), s.IsNew(), want)
			}
			if !want && s.Reason() != core.Expired {
				t.Errorf("%s: Reason = %v, want expired", name, s.Reason())
			}
		})
	}
	alive("idle cookie, signed again", renewed.Value, true)
	alive("idle cookie, 100 minutes idle", short.Value, false)

	clk.Advance(2 * day)
	alive("remembered cookie, 2 days", long.Value, true)
	alive("plain cookie, 2 days", plain.Value, false)
	clk.Advance(month)
	alive("remembered cookie, a month", long.Value, false)
}

// A deadline without a lifetime of its own is how long the session lives,
// within MaxLifetime: a deadline in 20 days outlives the Manager's hour.
func TestExpiryDeadlineAlone(t *testing.T) {
	m, b, clk := expiryManager(t)
	deadline := clk.Now().Add(20 * day)
	c := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) {
		s.Set("user", "erin")
		s.SetExpiry(core.Expiry{Deadline: deadline})
	}).setCookie("session")
	if got := b.ttl("session:" + c.Value); got != time.Hour {
		t.Errorf("without MaxLifetime: stored for %v, want the Manager's hour", got)
	}
	m.MaxLifetime = month
	serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) { s.Set("n", 1) })
	if got := b.ttl("session:" + c.Value); got != 20*day {
		t.Errorf("with MaxLifetime: stored for %v, want 20 days to the deadline", got)
	}
}

// A lifetime or idle timeout past what the Manager allows is cut, and
// reported, so that "remember me for 30 days" does not quietly last 14.
func TestExpiryBeyondTheManagerIsReported(t *testing.T) {
	m, _, clk := expiryManager(t)
	var reported []error
	m.ErrorHandler = func(_ context.Context, err error) { reported = append(reported, err) }
	m.IdleTimeout = time.Hour
	serve(t, m, "", "127.0.0.1:1", func(s *core.Session) {
		s.Set("user", "dan")
		s.SetExpiry(core.Expiry{Lifetime: m.Lifetime + time.Hour, Idle: 2 * time.Hour})
		if got, want := s.ExpiresAt(), clk.Now().Add(time.Hour); !got.Equal(want) {
			t.Errorf("ExpiresAt = %v, want %v: the idle timeout cut to the Manager's hour", got, want)
		}
	})
	if len(reported) != 2 || !errors.Is(reported[0], core.ErrConfig) || !errors.Is(reported[1], core.ErrConfig) {
		t.Errorf("reported %v, want two ErrConfig: the lifetime and the idle timeout", reported)
	}

	reported = nil
	m.MaxLifetime = m.Lifetime + time.Hour
	serve(t, m, "", "127.0.0.1:1", func(s *core.Session) {
		s.Set("user", "dan")
		s.SetExpiry(core.Expiry{Lifetime: m.MaxLifetime, Idle: 2 * time.Hour})
	})
	if reported != nil {
		t.Errorf("within MaxLifetime: reported %v, want nothing", reported)
	}
}
