package signing

import (
	"testing"
	"time"
)

func BenchmarkSignerUnsign(b *testing.B) {
	var vs quartVectors
	readVectors(b, "quart_session_signer.json", &vs)
	s := mustSigner(b, QuartSessionSalt, vs.SecretKey)
	signed := vs.Vectors[0].Signed
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Unsign(signed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignerSign(b *testing.B) {
	s := mustSigner(b, QuartSessionSalt, "secret")
	b.ReportAllocs()
	for b.Loop() {
		s.Sign("b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8")
	}
}

func BenchmarkTimedSerializerLoads(b *testing.B) {
	var vs flaskVectors
	readVectors(b, "flask_cookie_session.json", &vs)
	s := mustCookie(b, vs.SecretKey)
	now := time.Unix(vs.Timestamp, 0)
	maxAge := time.Duration(vs.MaxAge) * time.Second
	for _, v := range vs.Vectors[:3] { // simple, tagged (compressed), compressed
		b.Run(v.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.Loads(v.Cookie, maxAge, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTimedSerializerDumps(b *testing.B) {
	s := mustCookie(b, "secret")
	data := []byte(`{"user":"alice","_permanent":true}`)
	now := time.Unix(1700000000, 0)
	b.ReportAllocs()
	for b.Loop() {
		s.Dumps(data, now)
	}
}
