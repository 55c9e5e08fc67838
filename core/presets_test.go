package core_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
	"github.com/cloakroom/cloakroom/core/signing"
)

const interop = "../testdata/interop/"

func readVectors(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(interop + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// TestQuartSessionLayout writes a session as Quart-Session does and reads

// it back in Go, and the reverse, at the byte level of the store.

func TestQuartSessionLayout(t *testing.T) {
	ctx := context.Background()
	b := newCounting(t)
	m := core.NewQuartManager(b)
	m.Protection = core.ProtectAddress

	// As seen on a real Quart 0.18.3 + Quart-Session run against Redis.
	sid := "ffa653e3-5b0c-4ec4-90d4-9172f5b92612"
	b.Store().Set(ctx, "session:"+sid, []byte(`{"_permanent":true,"_addr":"127.0.0.1","foo":"bar"}`), 31*24*time.Hour)
	ex := serve(t, m, sid, "127.0.0.1:5000", func(s *core.Session) {
		if v, _ := s.GetString("foo"); v != "bar" || s.IsNew() {
			t.Errorf("foo = %q (new %v): Quart's session not read", v, s.IsNew())
		}
		s.Set("cart", codec.Tuple{int64(1), int64(2)})
	})
	if c := ex.setCookie("session"); c == nil || c.Value != sid || c.MaxAge != 31*24*3600 || !c.HttpOnly || c.Path != "/" {
		t.Fatalf("cookie = %v, want Quart-Session's session=<sid>; HttpOnly; Path=/; 31 days", c)
	}
	raw, _ := b.Store().Get(ctx, "session:"+sid)
	if want := `{"_addr":"127.0.0.1","_permanent":true,"cart":{" t":[1,2]},"foo":"bar"}`; string(raw) != want {
		t.Fatalf("stored %s, want %s", raw, want)
	}

	// A new Go session has Quart-Session's shape: a uuid4 sid, _permanent
	// and _addr.
	ex = serve(t, m, "", "127.0.0.1:5000", func(s *core.Session) { s.Set("foo", "bar") })
	c := ex.setCookie("session")
	if c == nil || !(core.UUID4ID{}).Valid(c.Value) {
		t.Fatalf("cookie %v: want a uuid4 sid", c)
	}
	raw, _ = b.Store().Get(ctx, "session:"+c.Value)
	if want := `{"_addr":"127.0.0.1","_permanent":true,"foo":"bar"}`; string(raw) != want {
		t.Fatalf("stored %s, want %s", raw, want)
	}
}

func TestQuartSessionSignedIDs(t *testing.T) {
	var v struct {
		Secret  string `json:"secret_key"`
		Vectors []struct{ Sid, Signed string }
	}
	readVectors(t, "quart_session_signer.json", &v)
	b := newCounting(t)
	m := core.NewQuartManager(b)
	signer, err := signing.NewSigner(signing.QuartSessionSalt, v.Secret)
	if err != nil {
		t.Fatal(err)
	}
	m.Signer = signer
	m.AllowWeakSecret = true // Quart-Session's vectors were made with a short one
	for _, vec := range v.Vectors {
		b.Store().Set(context.Background(), "session:"+vec.Sid, []byte(`{"_permanent":true,"n":1}`), time.Hour)
		ex := serve(t, m, vec.Signed, "127.0.0.1:1", func(s *core.Session) {
			if s.IsNew() || s.ID() != vec.Sid {
				t.Errorf("signed cookie %q: new %v id %q", vec.Signed, s.IsNew(), s.ID())
			}
			s.Set("n", 2)
		})
		if c := ex.setCookie("session"); c == nil || c.Value != vec.Signed {
			t.Errorf("cookie written = %v, want %q as Quart-Session signs it", c, vec.Signed)
		}
	}
}

type cookieVector struct {
	Name, Cookie string
	SessionJSON  string `json:"session_json"`
}

func TestDjangoCodec(t *testing.T) {
	var v struct {
		Secret  string `json:"secret_key"`
		Salt    string
		Time    int64 `json:"timestamp"`
		Vectors []struct {
			Name, Encoded string
			SessionJSON   string `json:"session_json"`
		}
		Invalid []struct{ Name, Encoded string }
	}
	readVectors(t, "django_session.json", &v)
	dj, err := codec.NewDjango(v.Salt, v.Secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, vec := range v.Vectors {
		got, err := dj.Decode([]byte(vec.Encoded))
		if err != nil {
			t.Errorf("%s: %v", vec.Name, err)
			continue
		}
		want, _ := codec.JSON{}.Decode([]byte(vec.SessionJSON))
		for k, w := range want {
			if !equalValue(got[k], w) {
				t.Errorf("%s: %s = %#v, want %#v", vec.Name, k, got[k], w)
			}
		}
		again, err := dj.Encode(got)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := dj.Decode(again); err != nil || len(back) != len(got) {
			t.Errorf("%s: round trip = %v, %v", vec.Name, back, err)
		}
		if strings.Contains(string(again), "_permanent") {
			t.Errorf("%s: _permanent leaked into Django's data", vec.Name)
		}
	}
	for _, vec := range v.Invalid {
		if _, err := dj.Decode([]byte(vec.Encoded)); err == nil {
			t.Errorf("%s: accepted", vec.Name)
		}
	}
}

func TestDjangoManager(t *testing.T) {
	b := newCounting(t)
	m, err := core.NewDjangoManager(b, "django-insecure-a-secret-key-of-fifty-characters")
	if err != nil {
		t.Fatal(err)
	}
	ex := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) { s.Set("_auth_user_id", "1") })
	c := ex.setCookie("sessionid")
	if c == nil || !(core.DjangoID{}).Valid(c.Value) || c.MaxAge != 14*24*3600 {
		t.Fatalf("cookie %v: want sessionid with a Django key for 14 days", c)
	}
	if calls := b.Calls(); len(calls) == 0 || calls[0] != "set "+c.Value {
		t.Fatalf("calls %q: Django keys carry no prefix", calls)
	}
	// A Django login (_auth_user_id) is listed among the user's sessions.
	if devices, err := m.Sessions(context.Background(), "1"); err != nil || len(devices) != 1 {
		t.Fatalf("Sessions(\"1\") = %v, %v; want the session Django's login key owns", devices, err)
	}
	if _, err := core.NewDjangoManager(b); err == nil {
		t.Fatal("NewDjangoManager without a secret succeeded")
	}
}

// equalValue compares decoded session values.

func equalValue(a, b any) bool {
	ja, err1 := codec.MarshalTagged(a)
	jb, err2 := codec.MarshalTagged(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// Django's "_session_expiry" becomes the session's own expiry, and the
// session's expiry is written back in Django's form.
func TestDjangoExpiry(t *testing.T) {
	const secret = "django-insecure-a-secret-key-of-fifty-characters"
	dj, err := codec.NewDjango(signing.DjangoSessionStoreSalt, secret)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signing.NewDjangoSigner(signing.DjangoSessionStoreSalt, secret)
	if err != nil {
		t.Fatal(err)
	}
	fromDjango := func(json string) map[string]any {
		t.Helper()
		data, err := dj.Decode([]byte(signer.Dumps([]byte(json), time.Now())))
		if err != nil {
			t.Fatalf("Decode(%s): %v", json, err)
		}
		return data
	}
	toDjango := func(data map[string]any) map[string]any {
		t.Helper()
		b, err := dj.Encode(data)
		if err != nil {
			t.Fatal(err)
		}
		payload, err := signer.Loads(string(b), 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		out, err := codec.JSON{}.Decode(payload)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	deadline := time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC).Unix()
	for _, c := range []struct {
		name, django string
		want         map[string]any // the keys Go sees beside "u"
		back         any            // _session_expiry as Go writes it again
	}{
		{"none", `{"u":1}`, map[string]any{"_permanent": true}, nil},
		{"seconds", `{"u":1,"_session_expiry":60}`, map[string]any{"_permanent": true, "_lifetime": int64(60)}, int64(60)},
		{"fraction", `{"u":1,"_session_expiry":1.5}`, map[string]any{"_permanent": true, "_lifetime": int64(2)}, int64(2)},
		{"browser", `{"u":1,"_session_expiry":0}`, map[string]any{}, int64(0)},
		{"aware", `{"u":1,"_session_expiry":"2026-12-06T16:00:00.250000+00:00"}`,
			map[string]any{"_permanent": true, "_deadline": deadline}, "2026-12-06T16:00:00+00:00"},
		{"offset", `{"u":1,"_session_expiry":"2026-12-06T17:00:00+01:00"}`,
			map[string]any{"_permanent": true, "_deadline": deadline}, "2026-12-06T16:00:00+00:00"},
		{"naive", `{"u":1,"_session_expiry":"2026-12-06T16:00:00"}`,
			map[string]any{"_permanent": true, "_deadline": deadline}, "2026-12-06T16:00:00+00:00"},
		{"unknown", `{"u":1,"_session_expiry":[1]}`, map[string]any{"_permanent": true, "_session_expiry": []any{int64(1)}}, []any{int64(1)}},
	} {
		got := fromDjango(c.django)
		delete(got, "u")
		if !equalValue(got, c.want) {
			t.Errorf("%s: Go sees %v, want %v", c.name, got, c.want)
		}
		got["u"] = int64(1)
		back := toDjango(got)
		if !equalValue(back["_session_expiry"], c.back) || back["_permanent"] != nil || back["_lifetime"] != nil || back["_deadline"] != nil {
			t.Errorf("%s: Django gets %v, want _session_expiry %v", c.name, back, c.back)
		}
	}
	// A browser-session cookie with a lifetime: Django holds the flag, the
	// core keeps its lifetime in its own key.
	back := toDjango(map[string]any{"u": int64(1), "_lifetime": int64(3600)})
	if !equalValue(back["_session_expiry"], int64(0)) || !equalValue(back["_lifetime"], int64(3600)) {
		t.Errorf("browser session with a lifetime: Django gets %v", back)
	}
}

// A Django session that set_expiry(60) lives 60 seconds after each save
// in Go too, and one that set_expiry(0) gets a browser-session cookie.
func TestDjangoManagerExpiry(t *testing.T) {
	b := newTTLRecorder(t)
	m, err := core.NewDjangoManager(b, "django-insecure-a-secret-key-of-fifty-characters")
	if err != nil {
		t.Fatal(err)
	}
	c := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) {
		s.Set("n", 1)
		s.SetExpiry(core.Expiry{Lifetime: time.Minute})
	}).setCookie("sessionid")
	if got := b.ttl(c.Value); got != time.Minute || c.MaxAge != 60 {
		t.Errorf("stored for %v with cookie Max-Age %d, want a minute", got, c.MaxAge)
	}
	browser := serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		if e := s.Expiry(); e.Lifetime != time.Minute {
			t.Errorf("Expiry() = %+v, want the minute back", e)
		}
		s.SetPermanent(false)
	}).setCookie("sessionid")
	if browser == nil || browser.MaxAge != 0 {
		t.Errorf("cookie %v, want one for the browser session", browser)
	}
	serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		if s.Permanent() || s.Expiry().Lifetime != time.Minute {
			t.Errorf("permanent %v, expiry %+v: want a browser session of a minute", s.Permanent(), s.Expiry())
		}
	})
}
