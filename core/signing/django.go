package signing

import (
	"crypto/sha256"
	"fmt"
	"math"
	"time"
)

// DjangoSessionStoreSalt is the salt Django's session stores (db, cache,
// cached_db, file) sign session_data with: "django.contrib.sessions." plus
// the class name, which is SessionStore for all of them.
const DjangoSessionStoreSalt = "django.contrib.sessions.SessionStore"

// base62 is the alphabet of Django's signing timestamps.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// DjangoSigner reads and writes values in the format of Django's
// django.core.signing.dumps and loads with compress=True and the default
// sha256 algorithm:
//
//	payload ":" timestamp ":" signature
//
// payload is base64url_nopad(data), or "." + base64url_nopad(zlib(data))
// when that is at least two bytes shorter; timestamp is the Unix time in
// seconds in base62 (0-9A-Za-z); signature is
// base64url_nopad(HMAC-SHA256(SHA256(salt + "signer" + secret), payload ":"
// timestamp)).
//
// The data is opaque to the signer; Django stores JSON in it. A DjangoSigner
// is safe for concurrent use;
// create one with [NewDjangoSigner], the zero value is not usable.
type DjangoSigner struct {
	keys macKeys
}

// NewDjangoSigner returns a DjangoSigner for the given salt, for sessions
// usually DjangoSessionStoreSalt. The first secret (Django's SECRET_KEY)
// signs; every secret verifies, like SECRET_KEY_FALLBACKS. It returns an
// error wrapping ErrNoSecret if secrets is empty or contains an empty string.
func NewDjangoSigner(salt string, secrets ...string) (*DjangoSigner, error) {
	keys, err := deriveKeys(sha256.New, secrets, func(secret string) []byte {
		h := sha256.New()
		h.Write([]byte(salt))
		h.Write([]byte("signer"))
		h.Write([]byte(secret))
		return h.Sum(nil)
	})
	if err != nil {
		return nil, err
	}
	return &DjangoSigner{keys: keys}, nil
}

// Dumps signs data with the first secret and the timestamp now (truncated to
// whole seconds) and returns the encoded value.
func (d *DjangoSigner) Dumps(data []byte, now time.Time) string {
	return djangoLayout.dumps(d.keys[0], data, now.Unix())
}

// Loads verifies a value produced by Dumps (or by Django) and returns the
// data.
//
// The signature is checked first, against every secret; a mismatch fails
// with ErrBadSignature. Then, if maxAge is positive, a value signed more
// than maxAge before now fails with ErrExpired. Django does not check the age
// of session data, so pass zero there. Anything that is not well formed
// fails with ErrMalformed; compressed payloads are inflated up to
// MaxDecompressedSize bytes.
func (d *DjangoSigner) Loads(s string, maxAge time.Duration, now time.Time) ([]byte, error) {
	payload, ts, err := djangoLayout.open(d.keys, s)
	if err != nil {
		return nil, err
	}
	if maxAge > 0 {
		// time.Time.Sub saturates instead of overflowing.
		if age := now.Sub(time.Unix(ts, 0)); age > maxAge {
			return nil, fmt.Errorf("%w: age %v exceeds %v", ErrExpired, age, maxAge)
		}
	}
	return decodePayload(payload)
}

// appendBase62 appends Django's b62_encode(n).
func appendBase62(dst []byte, n int64) []byte {
	if n == 0 {
		return append(dst, '0')
	}
	var u uint64
	if n < 0 {
		dst = append(dst, '-')
		u = uint64(-(n + 1)) + 1 // |n| without overflow for math.MinInt64
	} else {
		u = uint64(n)
	}
	var buf [11]byte // 62^11 > 2^64
	i := len(buf)
	for u > 0 {
		i--
		buf[i] = base62[u%62]
		u /= 62
	}
	return append(dst, buf[i:]...)
}

// parseBase62 reverses appendBase62, like Django's b62_decode but rejecting
// empty input, characters outside the alphabet and values beyond int64.
func parseBase62(s string) (int64, error) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "" {
		return 0, fmt.Errorf("%w: empty timestamp", ErrMalformed)
	}
	var u uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'A' <= c && c <= 'Z':
			v = c - 'A' + 10
		case 'a' <= c && c <= 'z':
			v = c - 'a' + 36
		default:
			return 0, fmt.Errorf("%w: invalid character %q in timestamp", ErrMalformed, c)
		}
		if u > (math.MaxInt64-uint64(v))/62 {
			return 0, fmt.Errorf("%w: timestamp out of range", ErrMalformed)
		}
		u = u*62 + uint64(v)
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}
