package signing

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// checkErr fails unless err is nil or wraps exactly one of the sentinels.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrExpired) && !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %v wraps no sentinel", err)
	}
}

func FuzzSignerUnsign(f *testing.F) {
	var vs quartVectors
	readVectors(f, "quart_session_signer.json", &vs)
	for _, v := range vs.Vectors {
		f.Add(v.Signed)
		f.Add(v.SID)
	}
	f.Add("")
	f.Add(".")
	s := mustSigner(f, QuartSessionSalt, vs.SecretKey, "old")
	f.Fuzz(func(t *testing.T, in string) {
		v, err := s.Unsign(in)
		checkErr(t, err)
		if err == nil && !strings.HasPrefix(in, v+".") {
			t.Fatalf("Unsign(%q) = %q is not a prefix", in, v)
		}
		// Whatever is signed unsigns to itself.
		if got, err := s.Unsign(s.Sign(in)); err != nil || got != in {
			t.Fatalf("Unsign(Sign(%q)) = %q, %v", in, got, err)
		}
	})
}

func FuzzTimedLoads(f *testing.F) {
	var vs flaskVectors
	readVectors(f, "flask_cookie_session.json", &vs)
	for _, v := range append(vs.Vectors, vs.Invalid...) {
		f.Add(v.Cookie, vs.Timestamp)
	}
	f.Add(vs.Rotation.Cookie, vs.Timestamp)
	f.Add(vs.Expired.Cookie, vs.Expired.VerifyAt)
	s := mustCookie(f, vs.SecretKey, vs.Rotation.OldSecret)
	maxAge := time.Duration(vs.MaxAge) * time.Second
	f.Fuzz(func(t *testing.T, in string, now int64) {
		data, _, err := s.Loads(in, maxAge, time.Unix(now, 0))
		checkErr(t, err)
		if err == nil && len(data) > MaxDecompressedSize {
			t.Fatalf("%d bytes exceed the limit", len(data))
		}
		// in signed as "payload.timestamp" reaches the decoding behind the
		// signature check.
		forged := string(s.keys[0].appendSig([]byte(in+"."), []byte(in)))
		_, _, err = s.Loads(forged, maxAge, time.Unix(now, 0))
		if errors.Is(err, ErrBadSignature) {
			t.Fatalf("Loads(%q): %v", forged, err)
		}
		checkErr(t, err)
		// Any bytes round trip.
		at := time.Unix(now, 0)
		got, _, err := s.Loads(s.Dumps([]byte(in), at), maxAge, at)
		if err != nil || !bytes.Equal(got, []byte(in)) {
			t.Fatalf("round trip of %q: %q, %v", in, got, err)
		}
	})
}

func FuzzDjangoLoads(f *testing.F) {
	var vs djangoVectors
	readVectors(f, "django_session.json", &vs)
	for _, v := range append(vs.Vectors, vs.Invalid...) {
		f.Add(v.Encoded, vs.Timestamp)
	}
	d := mustDjango(f, vs.Salt, vs.SecretKey, "old")
	f.Fuzz(func(t *testing.T, in string, now int64) {
		at := time.Unix(now, 0)
		data, err := d.Loads(in, time.Hour, at)
		checkErr(t, err)
		if err == nil && len(data) > MaxDecompressedSize {
			t.Fatalf("%d bytes exceed the limit", len(data))
		}
		forged := string(d.keys[0].appendSig([]byte(in+":"), []byte(in)))
		_, err = d.Loads(forged, time.Hour, at)
		if errors.Is(err, ErrBadSignature) {
			t.Fatalf("Loads(%q): %v", forged, err)
		}
		checkErr(t, err)
		got, err := d.Loads(d.Dumps([]byte(in), at), 0, at)
		if err != nil || !bytes.Equal(got, []byte(in)) {
			t.Fatalf("round trip of %q: %q, %v", in, got, err)
		}
	})
}
