package signing

import (
	"crypto/sha1"
	"fmt"
	"math"
	"time"
)

// CookieSessionSalt is the salt Flask's and Quart's
// SecureCookieSessionInterface use for session cookies.
const CookieSessionSalt = "cookie-session"

// TimedSerializer reads and writes values in the format of itsdangerous'
// URLSafeTimedSerializer with key_derivation="hmac" and SHA-1:
//
//	payload "." timestamp "." signature
//
// payload is base64url_nopad(data), or "." + base64url_nopad(zlib(data))
// when that is at least two bytes shorter; timestamp is base64url_nopad of
// the big-endian Unix time in seconds without leading zero bytes; signature
// is base64url_nopad(HMAC-SHA1(HMAC-SHA1(secret, salt), payload "."
// timestamp)). All parts use base64 without padding.
//
// The data is opaque to the serializer; Flask stores tagged JSON in it.
// A TimedSerializer is safe for concurrent use;
// create one with [NewCookieSerializer] or [NewTimedSerializer], the zero value is not usable.
type TimedSerializer struct {
	keys macKeys
}

// NewCookieSerializer returns a TimedSerializer with the settings of Flask's
// and Quart's SecureCookieSessionInterface (salt CookieSessionSalt, SHA-1,
// hmac key derivation). The first secret signs; every secret verifies. It
// returns an error wrapping ErrNoSecret if secrets is empty or contains an
// empty string.
func NewCookieSerializer(secrets ...string) (*TimedSerializer, error) {
	return NewTimedSerializer(CookieSessionSalt, secrets...)
}

// NewTimedSerializer is like [NewCookieSerializer] with another salt.
func NewTimedSerializer(salt string, secrets ...string) (*TimedSerializer, error) {
	keys, err := deriveKeys(sha1.New, secrets, hmacDerive(sha1.New, salt))
	if err != nil {
		return nil, err
	}
	return &TimedSerializer{keys: keys}, nil
}

// Dumps signs data with the first secret and the timestamp now (truncated to
// whole seconds; times before 1970 are written as 0) and returns the
// encoded value.
func (t *TimedSerializer) Dumps(data []byte, now time.Time) string {
	return itsdangerousLayout.dumps(t.keys[0], data, now.Unix())
}

// Loads verifies a value produced by Dumps (or by itsdangerous) and returns
// the data and the time it was signed.
//
// The signature is checked first, against every secret; a mismatch fails
// with ErrBadSignature. Then, if maxAge is positive, a value signed more
// than maxAge before now, or after now, fails with ErrExpired, as in
// itsdangerous (ages are whole seconds). A maxAge of zero or less disables
// the age check. Anything that is not well formed fails with ErrMalformed;
// compressed payloads are inflated up to MaxDecompressedSize bytes.
func (t *TimedSerializer) Loads(s string, maxAge time.Duration, now time.Time) ([]byte, time.Time, error) {
	payload, ts, err := itsdangerousLayout.open(t.keys, s)
	if err != nil {
		return nil, time.Time{}, err
	}
	if maxAge > 0 {
		n := now.Unix()
		if ts > n {
			return nil, time.Time{}, fmt.Errorf("%w: signed %d seconds in the future", ErrExpired, ts-n)
		}
		// 0 <= ts <= n, so n-ts cannot overflow.
		if age := n - ts; age > int64(maxAge/time.Second) {
			return nil, time.Time{}, fmt.Errorf("%w: age %ds exceeds %v", ErrExpired, age, maxAge)
		}
	}
	data, err := decodePayload(payload)
	if err != nil {
		return nil, time.Time{}, err
	}
	return data, time.Unix(ts, 0), nil
}

// appendTimestamp appends itsdangerous' encoding of ts: base64url_nopad of
// its big-endian bytes with leading zero bytes removed (0 encodes as "").
func appendTimestamp(dst []byte, ts int64) []byte {
	if ts < 0 {
		ts = 0
	}
	var raw [8]byte
	u := uint64(ts)
	n := 0
	for ; u > 0; u >>= 8 {
		n++
		raw[8-n] = byte(u)
	}
	return b64.AppendEncode(dst, raw[8-n:])
}

// parseTimestamp reverses appendTimestamp. Like itsdangerous it accepts
// leading zero bytes; values beyond the range of int64 are malformed.
func parseTimestamp(s string) (int64, error) {
	if len(s) > b64.EncodedLen(8) {
		return 0, fmt.Errorf("%w: timestamp too long", ErrMalformed)
	}
	var raw [8]byte
	n, err := b64.Decode(raw[:], []byte(s))
	if err != nil {
		return 0, fmt.Errorf("%w: timestamp: %v", ErrMalformed, err)
	}
	var u uint64
	for _, c := range raw[:n] {
		u = u<<8 | uint64(c)
	}
	if u > math.MaxInt64 {
		return 0, fmt.Errorf("%w: timestamp out of range", ErrMalformed)
	}
	return int64(u), nil
}
