package signing

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"math"
	"strings"
	"testing"
	"time"
)

func TestConstructorsRejectMissingSecrets(t *testing.T) {
	for _, secrets := range [][]string{nil, {}, {""}, {"a", ""}} {
		if s, err := NewSigner("salt", secrets...); !errors.Is(err, ErrNoSecret) || s != nil {
			t.Errorf("NewSigner(%q) = %v, %v", secrets, s, err)
		}
		if s, err := NewSignerDigest(sha256.New, "salt", secrets...); !errors.Is(err, ErrNoSecret) || s != nil {
			t.Errorf("NewSignerDigest(%q) = %v, %v", secrets, s, err)
		}
		if s, err := NewCookieSerializer(secrets...); !errors.Is(err, ErrNoSecret) || s != nil {
			t.Errorf("NewCookieSerializer(%q) = %v, %v", secrets, s, err)
		}
		if s, err := NewTimedSerializer("salt", secrets...); !errors.Is(err, ErrNoSecret) || s != nil {
			t.Errorf("NewTimedSerializer(%q) = %v, %v", secrets, s, err)
		}
		if s, err := NewDjangoSigner("salt", secrets...); !errors.Is(err, ErrNoSecret) || s != nil {
			t.Errorf("NewDjangoSigner(%q) = %v, %v", secrets, s, err)
		}
	}
}

func TestSignerRoundTrip(t *testing.T) {
	for _, s := range []*Signer{
		mustSigner(t, QuartSessionSalt, "k1", "k0"),
		func() *Signer {
			s, err := NewSignerDigest(sha256.New, "salt", "k1")
			if err != nil {
				t.Fatal(err)
			}
			return s
		}(),
	} {
		for _, v := range []string{"", "sid", "a.b.c", "ünïcode", strings.Repeat("x", 5000)} {
			signed := s.Sign(v)
			got, err := s.Unsign(signed)
			if err != nil || got != v {
				t.Errorf("Unsign(Sign(%q)) = %q, %v", v, got, err)
			}
		}
	}
}

// TestSignerSHA256 pins the SHA-256 variant to an independent computation
// of itsdangerous' construction.
func TestSignerSHA256(t *testing.T) {
	s, err := NewSignerDigest(sha256.New, "salt", "secret")
	if err != nil {
		t.Fatal(err)
	}
	key := hmacSum(sha256.New, []byte("secret"), []byte("salt"))
	want := "value." + base64.RawURLEncoding.EncodeToString(hmacSum(sha256.New, key, []byte("value")))
	if got := s.Sign("value"); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
	// A SHA-1 signer with the same secret and salt does not accept it.
	if _, err := mustSigner(t, "salt", "secret").Unsign(want); !errors.Is(err, ErrBadSignature) {
		t.Errorf("SHA-1 signer: error = %v, want ErrBadSignature", err)
	}
}

func TestSignerMalformed(t *testing.T) {
	s := mustSigner(t, QuartSessionSalt, "secret")
	good := s.Sign("sid")
	sig := good[len("sid."):]
	cases := map[string]error{
		"":                                     ErrMalformed,
		"sid":                                  ErrMalformed,
		"sid.":                                 ErrBadSignature,
		".":                                    ErrBadSignature,
		"sid." + sig + "=":                     ErrBadSignature, // padding is not canonical
		"sid." + sig[:len(sig)-1]:              ErrBadSignature,
		"sid." + sig + "A":                     ErrBadSignature,
		"sid.." + sig:                          ErrBadSignature,
		"sid." + strings.Repeat("!", len(sig)): ErrBadSignature,
		"other." + sig:                         ErrBadSignature,
	}
	for in, want := range cases {
		if got, err := s.Unsign(in); !errors.Is(err, want) {
			t.Errorf("Unsign(%q) = %q, %v; want %v", in, got, err, want)
		}
	}
}

func TestTimedRoundTrip(t *testing.T) {
	s := mustCookie(t, "new", "old")
	now := time.Unix(1700000000, 999_000_000)
	for _, data := range [][]byte{
		nil,
		[]byte(`{}`),
		[]byte(`{"user":"alice"}`),
		[]byte(`{"x":"` + strings.Repeat("a", 10000) + `"}`),
		{0, 1, 2, 0xff},
	} {
		out := s.Dumps(data, now)
		if strings.Count(out, ".") < 2 {
			t.Errorf("Dumps(%q) = %q: missing separators", data, out)
		}
		got, ts, err := s.Loads(out, time.Hour, now)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("Loads(Dumps(%.40q)) = %.40q, %v", data, got, err)
		}
		if want := time.Unix(1700000000, 0); !ts.Equal(want) {
			t.Errorf("timestamp = %v, want %v", ts, want)
		}
		if got == nil {
			t.Errorf("Loads returned nil data for %q", data)
		}
	}
	big := []byte(`{"x":"` + strings.Repeat("a", 10000) + `"}`)
	if out := s.Dumps(big, now); !strings.HasPrefix(out, ".") || len(out) > 200 {
		t.Errorf("repetitive payload not compressed: %d bytes", len(out))
	}
	// Other salts do not verify each other's values.
	other, err := NewTimedSerializer("other-salt", "new")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Loads(s.Dumps(big, now), 0, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("other salt: error = %v, want ErrBadSignature", err)
	}
}

// signTimed signs an arbitrary payload and timestamp part the way
// itsdangerous would, to build well-signed but malformed values.
func signTimed(s *TimedSerializer, payload, ts string) string {
	v := payload + "." + ts
	return string(s.keys[0].appendSig([]byte(v+"."), []byte(v)))
}

func signDjango(d *DjangoSigner, payload, ts string) string {
	v := payload + ":" + ts
	return string(d.keys[0].appendSig([]byte(v+":"), []byte(v)))
}

func zlibBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func TestTimedMalformed(t *testing.T) {
	s := mustCookie(t, "secret")
	now := time.Unix(1700000000, 0)
	ts := "ZVPxAA"
	enc := base64.RawURLEncoding.EncodeToString
	bomb := zlibBytes(t, make([]byte, MaxDecompressedSize+1))
	exact := zlibBytes(t, make([]byte, MaxDecompressedSize))
	truncated := zlibBytes(t, []byte(strings.Repeat("hello ", 100)))
	truncated = truncated[:len(truncated)-3]
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrMalformed},
		{"abc", ErrMalformed},
		{"abc.def", ErrMalformed},
		{"..", ErrBadSignature},
		{"e30.ZVPxAA.", ErrBadSignature},
		{"e30.ZVPxAA.AAAAAAAAAAAAAAAAAAAAAAAAAAA", ErrBadSignature},
		{signTimed(s, "e30", "!!"), ErrMalformed},
		{signTimed(s, "e30", "AAAAAAAAAAAAAAAA"), ErrMalformed}, // 12 bytes
		{signTimed(s, "e30", "gAAAAAAAAAA"), ErrMalformed},      // 2^63
		{signTimed(s, "e", ts), ErrMalformed},                   // bad base64 length
		{signTimed(s, "e3$", ts), ErrMalformed},                 // bad base64 char
		{signTimed(s, ".e30", ts), ErrMalformed},                // not zlib
		{signTimed(s, "."+enc(truncated), ts), ErrMalformed},    // truncated zlib
		{signTimed(s, "."+enc(bomb), ts), ErrMalformed},         // zip bomb
		{signTimed(s, ".", ts), ErrMalformed},                   // empty zlib
	}
	for _, c := range cases {
		if data, _, err := s.Loads(c.in, time.Hour, now); !errors.Is(err, c.want) {
			t.Errorf("Loads(%.60q) = %.20q, %v; want %v", c.in, data, err, c.want)
		}
	}
	// Exactly at the limit is fine.
	data, _, err := s.Loads(signTimed(s, "."+enc(exact), ts), time.Hour, now)
	if err != nil || len(data) != MaxDecompressedSize {
		t.Errorf("payload of MaxDecompressedSize: %d bytes, %v", len(data), err)
	}
	// Leading zero bytes in the timestamp are accepted like itsdangerous
	// does, and the empty timestamp is 0.
	data, got, err := s.Loads(signTimed(s, "e30", "AABlU_EA"), 0, now)
	if err != nil || string(data) != "{}" || got.Unix() != 1700000000 {
		t.Errorf("padded timestamp: %q, %v, %v", data, got, err)
	}
	if _, got, err := s.Loads(signTimed(s, "e30", ""), 0, now); err != nil || got.Unix() != 0 {
		t.Errorf("empty timestamp: %v, %v", got, err)
	}
}

func TestTimestampEncoding(t *testing.T) {
	for ts, want := range map[int64]string{
		0:             "",
		-5:            "",
		1:             "AQ",
		255:           "_w",
		256:           "AQA",
		1700000000:    "ZVPxAA",
		math.MaxInt64: "f_________8",
	} {
		got := string(appendTimestamp(nil, ts))
		if got != want {
			t.Errorf("appendTimestamp(%d) = %q, want %q", ts, got, want)
		}
		back, err := parseTimestamp(got)
		if err != nil || (ts >= 0 && back != ts) {
			t.Errorf("parseTimestamp(%q) = %d, %v", got, back, err)
		}
	}
}

func TestBase62(t *testing.T) {
	for n, want := range map[int64]string{
		0:             "0",
		1:             "1",
		61:            "z",
		62:            "10",
		-62:           "-10",
		1700000000:    "1r31eq",
		math.MaxInt64: "AzL8n0Y58m7",
	} {
		got := string(appendBase62(nil, n))
		if got != want {
			t.Errorf("appendBase62(%d) = %q, want %q", n, got, want)
		}
		if back, err := parseBase62(got); err != nil || back != n {
			t.Errorf("parseBase62(%q) = %d, %v", got, back, err)
		}
	}
	if got := string(appendBase62(nil, math.MinInt64)); got != "-AzL8n0Y58m8" {
		t.Errorf("appendBase62(MinInt64) = %q", got)
	}
	for _, bad := range []string{"", "-", "+1", "1.5", "AzL8n0Y58m8", "zzzzzzzzzzzz", " 1"} {
		if n, err := parseBase62(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("parseBase62(%q) = %d, %v; want ErrMalformed", bad, n, err)
		}
	}
}

func TestDjangoRoundTripAndMalformed(t *testing.T) {
	d := mustDjango(t, DjangoSessionStoreSalt, "new", "old")
	now := time.Unix(1700000000, 0)
	for _, data := range [][]byte{nil, []byte(`{"a":1}`), []byte(strings.Repeat(`{"k":"v"},`, 500))} {
		out := d.Dumps(data, now)
		got, err := d.Loads(out, 0, now)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("Loads(Dumps(%.40q)) = %.40q, %v", data, got, err)
		}
	}
	// Dumps before 1970 writes a negative base62 timestamp like Django.
	if out := d.Dumps([]byte("{}"), time.Unix(-62, 0)); !strings.Contains(out, ":-10:") {
		t.Errorf("negative timestamp: %q", out)
	}
	// Future values are not expired: Django only checks the age.
	if _, err := d.Loads(d.Dumps([]byte("{}"), now.Add(time.Hour)), time.Minute, now); err != nil {
		t.Errorf("future value: %v", err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrMalformed},
		{"e30", ErrMalformed},
		{"e30:sig", ErrMalformed},
		{"::", ErrBadSignature},
		{"e30.ZVPxAA.sig", ErrMalformed},
		{signDjango(d, "e30", ""), ErrMalformed},
		{signDjango(d, "e30", "1r31e!"), ErrMalformed},
		{signDjango(d, "e30ab", "1r31eq"), ErrMalformed},
		{signDjango(d, ".e30", "1r31eq"), ErrMalformed},
		{signDjango(d, "."+enc(zlibBytes(t, make([]byte, MaxDecompressedSize+1))), "1r31eq"), ErrMalformed},
	}
	for _, c := range cases {
		if data, err := d.Loads(c.in, 0, now); !errors.Is(err, c.want) {
			t.Errorf("Loads(%.60q) = %.20q, %v; want %v", c.in, data, err, c.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s := mustCookie(t, "secret")
	now := time.Unix(1700000000, 0)
	done := make(chan error)
	for i := range 8 {
		go func() {
			var err error
			for j := range 200 {
				data := []byte(strings.Repeat("x", i*j))
				got, _, e := s.Loads(s.Dumps(data, now), 0, now)
				if e != nil || !bytes.Equal(got, data) {
					err = errors.New("round trip failed")
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}
