package signing

import (
	"crypto/sha1"
	"fmt"
	"hash"
	"slices"
	"strings"
)

// QuartSessionSalt is the salt Quart-Session uses to sign session ids when
// SESSION_USE_SIGNER is set.
const QuartSessionSalt = "quart-session"

// Signer signs and verifies strings in the format of itsdangerous' Signer
// with key_derivation="hmac":
//
//	value + "." + base64url_nopad(HMAC(HMAC(secret, salt), value))
//
// where both HMACs use the signer's digest (SHA-1 unless created with
// [NewSignerDigest]). A Signer is safe for concurrent use;
// create one with [NewSigner] or [NewSignerDigest], the zero value is not usable.
type Signer struct {
	keys     macKeys
	shortest int // the length of the shortest secret
}

// NewSigner returns a Signer using SHA-1, itsdangerous' default digest. The
// first secret signs; every secret verifies. It returns an error wrapping
// ErrNoSecret if secrets is empty or contains an empty string.
//
// Use NewSigner(QuartSessionSalt, secretKey) to read and write the session
// ids of Quart-Session.
func NewSigner(salt string, secrets ...string) (*Signer, error) {
	return NewSignerDigest(sha1.New, salt, secrets...)
}

// NewSignerDigest is like [NewSigner] but uses the given digest, for example
// sha256.New, both to derive the keys and to sign. A nil digest means SHA-1.
func NewSignerDigest(digest func() hash.Hash, salt string, secrets ...string) (*Signer, error) {
	if digest == nil {
		digest = sha1.New
	}
	keys, err := deriveKeys(digest, secrets, hmacDerive(digest, salt))
	if err != nil {
		return nil, err
	}
	return &Signer{keys: keys, shortest: len(slices.MinFunc(secrets, func(a, b string) int { return len(a) - len(b) }))}, nil
}

// SecretLen returns the length in bytes of the shortest of the Signer's
// secrets, so that a core.Manager can refuse one too short to be safe.
func (s *Signer) SecretLen() int { return s.shortest }

// Sign returns value followed by "." and its signature under the first
// secret.
func (s *Signer) Sign(value string) string {
	k := s.keys[0]
	b := make([]byte, 0, len(value)+1+k.encLen)
	b = append(b, value...)
	b = append(b, '.')
	b = k.appendSig(b, b[:len(value)])
	return string(b)
}

// Unsign verifies a string produced by Sign and returns the value without
// its signature. The value is split at the last ".", so it may itself
// contain dots. It fails with ErrMalformed if there is no "." and with
// ErrBadSignature if the signature matches under none of the secrets.
func (s *Signer) Unsign(signed string) (string, error) {
	i := strings.LastIndexByte(signed, '.')
	if i < 0 {
		return "", fmt.Errorf("%w: no separator in signed value", ErrMalformed)
	}
	value, sig := signed[:i], signed[i+1:]
	if !s.keys.verify(value, sig) {
		return "", ErrBadSignature
	}
	return value, nil
}
