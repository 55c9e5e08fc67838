package signing_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/core/signing"
)

// Quart-Session signs the session id it stores in the cookie.
func ExampleSigner() {
	s, err := signing.NewSigner(signing.QuartSessionSalt, "peer-secret-key")
	if err != nil {
		panic(err)
	}
	cookie := s.Sign("b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8")
	fmt.Println(cookie)

	sid, err := s.Unsign(cookie)
	fmt.Println(sid, err)

	_, err = s.Unsign("b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8.forged")
	fmt.Println(errors.Is(err, signing.ErrBadSignature))
	// Output:
	// b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8.72nPliukdqQH4Kh5XxE3XvPDHls
	// b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8 <nil>
	// true
}

// Flask and Quart keep the whole session in a signed cookie.
func ExampleTimedSerializer() {
	// The new secret signs; the old one still verifies during rotation.
	s, err := signing.NewCookieSerializer("new-secret", "old-secret")
	if err != nil {
		panic(err)
	}
	now := time.Unix(1700000000, 0)
	fmt.Println(s.Dumps([]byte(`{"user":"bob"}`), now))

	// A cookie Flask wrote with the old secret.
	cookie := "eyJ1c2VyIjoiYm9iIn0.ZVPxAA.vrMIcO4IeHKUhzf048icJ90N_ss"
	data, signed, err := s.Loads(cookie, 31*24*time.Hour, now.Add(time.Hour))
	fmt.Println(string(data), signed.UTC(), err)

	_, _, err = s.Loads(cookie, 31*24*time.Hour, now.Add(32*24*time.Hour))
	fmt.Println(errors.Is(err, signing.ErrExpired))
	// Output:
	// eyJ1c2VyIjoiYm9iIn0.ZVPxAA.VOEWNN7XD8WF6lXG9ufEMYmDjV0
	// {"user":"bob"} 2023-11-14 22:13:20 +0000 UTC <nil>
	// true
}

// Django stores signed, possibly compressed, JSON in django_session.
func ExampleDjangoSigner() {
	d, err := signing.NewDjangoSigner(signing.DjangoSessionStoreSalt, "django-secret")
	if err != nil {
		panic(err)
	}
	encoded := d.Dumps([]byte(`{"a":1}`), time.Unix(1700000000, 0))
	fmt.Println(encoded[:len(`eyJhIjoxfQ:1r31eq:`)])

	// Django does not limit the age of session data: pass 0.
	data, err := d.Loads(encoded, 0, time.Now())
	fmt.Println(string(data), err)
	// Output:
	// eyJhIjoxfQ:1r31eq:
	// {"a":1} <nil>
}

func ExampleNewSigner_noSecret() {
	_, err := signing.NewSigner(signing.QuartSessionSalt)
	fmt.Println(errors.Is(err, signing.ErrNoSecret))
	// Output: true
}
