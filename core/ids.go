package core

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/cloakroom/cloakroom/core/codec"
)

// IDGenerator makes session ids and recognises well-formed ones, so that the
// Manager can refuse a malformed id before asking the backend.
type IDGenerator interface {
	NewID() string
	Valid(id string) bool
}

// RandomID is the default IDGenerator: 32 bytes from crypto/rand, URL-safe
// base64 without padding (43 characters).
type RandomID struct{}

const randomIDLen = 43

// NewID implements IDGenerator.
func (RandomID) NewID() string {
	var b [32]byte
	rand.Read(b[:]) // never fails: crypto/rand panics rather than return short
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Valid implements IDGenerator.
func (RandomID) Valid(id string) bool {
	if len(id) != randomIDLen {
		return false
	}
	// The values are ORed rather than each tested: one test of the sign
	// at the end costs less than a branch per character. Eight at a time,
	// because a loop over one costs more than its lookup.
	t := &base64URLValues
	var or int8
	for i := 0; i+8 <= randomIDLen; i += 8 {
		c := id[i : i+8]
		or |= t[c[0]] | t[c[1]] | t[c[2]] | t[c[3]] | t[c[4]] | t[c[5]] | t[c[6]] | t[c[7]]
	}
	for _, c := range []byte(id[randomIDLen/8*8:]) {
		or |= t[c]
	}
	// The last character carries 4 padding bits that must be zero, or two
	// different strings would name the same id.
	return or >= 0 && base64URLValue(id[randomIDLen-1])&0x3 == 0
}

// UUID4ID makes random (version 4) UUIDs in their canonical lowercase form,
// as Quart-Session's str(uuid4()) does.
type UUID4ID struct{}

// NewID implements IDGenerator.
func (UUID4ID) NewID() string {
	var u codec.UUID
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// Valid implements IDGenerator. It accepts any canonical lowercase UUID, as
// Quart-Session does not check the version either.
func (UUID4ID) Valid(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch i {
		case 8, 13, 18, 23:
			if id[i] != '-' {
				return false
			}
		default:
			if !isLowerHex(id[i]) {
				return false
			}
		}
	}
	return true
}

// DjangoID makes Django session keys: 32 characters of [a-z0-9].
type DjangoID struct{}

const djangoAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewID implements IDGenerator.
func (DjangoID) NewID() string {
	b := make([]byte, 32)
	// Rejection sampling keeps every character equally likely: 252 is the
	// largest multiple of 36 below 256.
	var buf [64]byte
	for n := 0; n < len(b); {
		rand.Read(buf[:])
		for _, c := range buf {
			if c < 252 && n < len(b) {
				b[n] = djangoAlphabet[c%36]
				n++
			}
		}
	}
	return string(b)
}

// Valid implements IDGenerator.
func (DjangoID) Valid(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// base64URLValue returns c's value in base64url, or -1, from a table:
// every request's id is checked a character at a time.
func base64URLValue(c byte) int { return int(base64URLValues[c]) }

var base64URLValues = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(alphabet) {
		t[alphabet[i]] = int8(i)
	}
	return t
}()
