package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const interopDir = "../../testdata/interop"

func readVectors(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(interopDir, name))
	if err != nil {
		t.Fatalf("reading vectors: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
}

type quartVectors struct {
	SecretKey string `json:"secret_key"`
	Vectors   []struct {
		SID    string `json:"sid"`
		Signed string `json:"signed"`
	} `json:"vectors"`
}

type flaskVectors struct {
	SecretKey string `json:"secret_key"`
	Timestamp int64  `json:"timestamp"`
	MaxAge    int64  `json:"max_age_seconds"`
	Vectors   []flaskVector
	Invalid   []flaskVector `json:"invalid"`
	Rotation  struct {
		OldSecret string `json:"old_secret"`
		NewSecret string `json:"new_secret"`
		Cookie    string `json:"cookie"`
	} `json:"rotation"`
	Expired struct {
		VerifyAt int64  `json:"verify_at"`
		Cookie   string `json:"cookie"`
	} `json:"expired"`
}

type flaskVector struct {
	Name        string `json:"name"`
	SessionJSON string `json:"session_json"`
	Cookie      string `json:"cookie"`
}

type djangoVectors struct {
	SecretKey string `json:"secret_key"`
	Salt      string `json:"salt"`
	Timestamp int64  `json:"timestamp"`
	Vectors   []djangoVector
	Invalid   []djangoVector `json:"invalid"`
}

type djangoVector struct {
	Name        string `json:"name"`
	SessionJSON string `json:"session_json"`
	Encoded     string `json:"encoded"`
}

// sameJSON reports whether a and b decode to equal JSON values.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Errorf("decoding %q: %v", a, err)
		return false
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Errorf("decoding %q: %v", b, err)
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func mustSigner(t testing.TB, salt string, secrets ...string) *Signer {
	t.Helper()
	s, err := NewSigner(salt, secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustCookie(t testing.TB, secrets ...string) *TimedSerializer {
	t.Helper()
	s, err := NewCookieSerializer(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustDjango(t testing.TB, salt string, secrets ...string) *DjangoSigner {
	t.Helper()
	s, err := NewDjangoSigner(salt, secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestQuartSessionSignerVectors(t *testing.T) {
	var vs quartVectors
	readVectors(t, "quart_session_signer.json", &vs)
	if len(vs.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	s := mustSigner(t, QuartSessionSalt, vs.SecretKey)
	other := mustSigner(t, QuartSessionSalt, "another-secret")
	for _, v := range vs.Vectors {
		if got := s.Sign(v.SID); got != v.Signed {
			t.Errorf("Sign(%q) = %q, want %q", v.SID, got, v.Signed)
		}
		got, err := s.Unsign(v.Signed)
		if err != nil || got != v.SID {
			t.Errorf("Unsign(%q) = %q, %v; want %q", v.Signed, got, err, v.SID)
		}
		if _, err := other.Unsign(v.Signed); !errors.Is(err, ErrBadSignature) {
			t.Errorf("wrong secret: Unsign(%q) error = %v, want ErrBadSignature", v.Signed, err)
		}
		// Tampering with any byte of the id or the signature fails.
		for i := range len(v.Signed) {
			b := []byte(v.Signed)
			b[i] ^= 0x01
			if _, err := s.Unsign(string(b)); err == nil {
				t.Errorf("tampered %q accepted", b)
			}
		}
		if _, err := s.Unsign(v.SID); err == nil {
			t.Errorf("unsigned id %q accepted", v.SID)
		}
		// Rotation: a signer whose first secret is new still verifies.
		rot := mustSigner(t, QuartSessionSalt, "new-secret", vs.SecretKey)
		if got, err := rot.Unsign(v.Signed); err != nil || got != v.SID {
			t.Errorf("rotated Unsign(%q) = %q, %v", v.Signed, got, err)
		}
	}
	if _, err := s.Unsign("no-separator"); !errors.Is(err, ErrMalformed) {
		t.Errorf("no separator: error = %v, want ErrMalformed", err)
	}
	if _, err := mustSigner(t, "x", "a").Unsign(""); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty: error = %v, want ErrMalformed", err)
	}
}

func TestFlaskCookieVectors(t *testing.T) {
	var vs flaskVectors
	readVectors(t, "flask_cookie_session.json", &vs)
	if len(vs.Vectors) == 0 || len(vs.Invalid) == 0 {
		t.Fatal("no vectors")
	}
	now := time.Unix(vs.Timestamp, 0)
	maxAge := time.Duration(vs.MaxAge) * time.Second
	s := mustCookie(t, vs.SecretKey)
	for _, v := range vs.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			data, ts, err := s.Loads(v.Cookie, maxAge, now)
			if err != nil {
				t.Fatalf("Loads: %v", err)
			}
			if !ts.Equal(now) {
				t.Errorf("timestamp = %v, want %v", ts, now)
			}
			if !sameJSON(t, data, []byte(v.SessionJSON)) {
				t.Errorf("data = %s, want %s", data, v.SessionJSON)
			}
			// Python's json is compact and key order survives, so the
			// bytes match too.
			if string(data) != v.SessionJSON {
				t.Errorf("data = %s, want %s", data, v.SessionJSON)
			}
			// Go's Dumps of the same bytes: uncompressed values match byte
			// for byte; compressed ones must at least round trip.
			out := s.Dumps([]byte(v.SessionJSON), now)
			if strings.HasPrefix(v.Cookie, ".") != strings.HasPrefix(out, ".") {
				t.Logf("compression decision differs (allowed, zlib output varies): Go %q, Python %q", out, v.Cookie)
			}
			if !strings.HasPrefix(v.Cookie, ".") && out != v.Cookie {
				t.Errorf("Dumps = %q, want %q", out, v.Cookie)
			}
			back, _, err := s.Loads(out, maxAge, now)
			if err != nil || !bytes.Equal(back, []byte(v.SessionJSON)) {
				t.Errorf("Loads(Dumps) = %s, %v", back, err)
			}
		})
	}
	for _, v := range vs.Invalid {
		t.Run("invalid/"+v.Name, func(t *testing.T) {
			data, _, err := s.Loads(v.Cookie, maxAge, now)
			if err == nil {
				t.Fatalf("accepted: %s", data)
			}
		})
	}
	t.Run("invalid/wrong_secret_is_bad_signature", func(t *testing.T) {
		for _, v := range vs.Invalid {
			if v.Name == "wrong_secret" || v.Name == "tampered_payload" {
				if _, _, err := s.Loads(v.Cookie, maxAge, now); !errors.Is(err, ErrBadSignature) {
					t.Errorf("%s: error = %v, want ErrBadSignature", v.Name, err)
				}
			}
		}
	})
	t.Run("rotation", func(t *testing.T) {
		r := vs.Rotation
		both := mustCookie(t, r.NewSecret, r.OldSecret)
		data, _, err := both.Loads(r.Cookie, maxAge, now)
		if err != nil || !sameJSON(t, data, []byte(`{"user":"bob"}`)) {
			t.Errorf("with fallback: %s, %v", data, err)
		}
		newOnly := mustCookie(t, r.NewSecret)
		if _, _, err := newOnly.Loads(r.Cookie, maxAge, now); !errors.Is(err, ErrBadSignature) {
			t.Errorf("without fallback: error = %v, want ErrBadSignature", err)
		}
		// The new secret signs: the old one alone cannot read it.
		out := both.Dumps(data, now)
		if _, _, err := newOnly.Loads(out, maxAge, now); err != nil {
			t.Errorf("new secret cannot read what rotation signer wrote: %v", err)
		}
		if _, _, err := mustCookie(t, r.OldSecret).Loads(out, maxAge, now); !errors.Is(err, ErrBadSignature) {
			t.Errorf("old secret read new cookie: %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e := vs.Expired
		at := time.Unix(e.VerifyAt, 0)
		if _, _, err := s.Loads(e.Cookie, maxAge, at); !errors.Is(err, ErrExpired) {
			t.Errorf("error = %v, want ErrExpired", err)
		}
		// One second earlier it is exactly max_age old and still valid.
		if _, _, err := s.Loads(e.Cookie, maxAge, at.Add(-time.Second)); err != nil {
			t.Errorf("at max age: %v", err)
		}
		// Without an age limit it loads.
		if _, _, err := s.Loads(e.Cookie, 0, at); err != nil {
			t.Errorf("no max age: %v", err)
		}
		// Signed in the future: rejected like itsdangerous does.
		if _, _, err := s.Loads(e.Cookie, maxAge, now.Add(-time.Second)); !errors.Is(err, ErrExpired) {
			t.Errorf("future: error = %v, want ErrExpired", err)
		}
	})
}

func TestDjangoVectors(t *testing.T) {
	var vs djangoVectors
	readVectors(t, "django_session.json", &vs)
	if len(vs.Vectors) == 0 || len(vs.Invalid) == 0 {
		t.Fatal("no vectors")
	}
	now := time.Unix(vs.Timestamp, 0)
	d := mustDjango(t, vs.Salt, vs.SecretKey)
	for _, v := range vs.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			data, err := d.Loads(v.Encoded, 0, now)
			if err != nil {
				t.Fatalf("Loads: %v", err)
			}
			if !sameJSON(t, data, []byte(v.SessionJSON)) {
				t.Errorf("data = %s, want %s", data, v.SessionJSON)
			}
			out := d.Dumps(data, now)
			if strings.HasPrefix(v.Encoded, ".") != strings.HasPrefix(out, ".") {
				t.Logf("compression decision differs (allowed, zlib output varies): Go %q, Django %q", out, v.Encoded)
			}
			if !strings.HasPrefix(v.Encoded, ".") && out != v.Encoded {
				t.Errorf("Dumps = %q, want %q", out, v.Encoded)
			}
			back, err := d.Loads(out, 0, now)
			if err != nil || !sameJSON(t, back, []byte(v.SessionJSON)) {
				t.Errorf("Loads(Dumps) = %s, %v", back, err)
			}
			// Another salt or secret does not verify.
			if _, err := mustDjango(t, DjangoSessionStoreSalt, vs.SecretKey).Loads(v.Encoded, 0, now); !errors.Is(err, ErrBadSignature) {
				t.Errorf("other salt: error = %v, want ErrBadSignature", err)
			}
			if _, err := mustDjango(t, vs.Salt, "other").Loads(v.Encoded, 0, now); !errors.Is(err, ErrBadSignature) {
				t.Errorf("other secret: error = %v, want ErrBadSignature", err)
			}
			// With rotation the old key still verifies.
			if _, err := mustDjango(t, vs.Salt, "new", vs.SecretKey).Loads(v.Encoded, 0, now); err != nil {
				t.Errorf("rotation: %v", err)
			}
			// Age is checked only when asked for.
			later := now.Add(time.Hour)
			if _, err := d.Loads(v.Encoded, time.Hour, later); err != nil {
				t.Errorf("at max age: %v", err)
			}
			if _, err := d.Loads(v.Encoded, time.Hour, later.Add(time.Second)); !errors.Is(err, ErrExpired) {
				t.Errorf("past max age: error = %v, want ErrExpired", err)
			}
		})
	}
	for _, v := range vs.Invalid {
		t.Run("invalid/"+v.Name, func(t *testing.T) {
			if data, err := d.Loads(v.Encoded, 0, now); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Loads = %s, %v; want ErrBadSignature", data, err)
			}
		})
	}
}
