package codec

import (
	"errors"
)

// Tuple is a Python tuple. Flask stores flash messages and other fixed
// pairs as tuples, and tagged JSON writes them apart from lists, so a
// session read from Python and written back must keep the distinction;
// a distinct Go type is how the codecs remember it.
type Tuple []any

// UUID is a 16-byte UUID. It is a type of its own, rather than [16]byte or
// a third-party package's UUID, so that the codecs can tell it from a byte
// array without depending on any UUID library; values of other named
// [16]byte types are converted to it when encoded.
type UUID [16]byte

// ErrBadUUID is returned by ParseUUID for text that is not a UUID.
var ErrBadUUID = errors.New("cloakroom: malformed UUID")

const hexDigits = "0123456789abcdef"

// String returns the canonical hyphenated lowercase form, the one Python's
// str(uuid) gives, so that logs and plain-JSON sessions read the same in
// both languages.
func (u UUID) String() string {
	var b [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = hexDigits[c>>4]
		b[j+1] = hexDigits[c&0xf]
		j += 2
	}
	return string(b[:])
}

// MarshalText writes the canonical form, so that UUIDs inside structs take
// the same shape through encoding/json as Python's str(uuid).
func (u UUID) MarshalText() ([]byte, error) {
	return []byte(u.String()), nil
}

// UnmarshalText accepts what ParseUUID accepts, as the inverse of
// MarshalText.
func (u *UUID) UnmarshalText(b []byte) error {
	v, err := parseUUIDText(b)
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// appendHex appends the 32 lowercase hex digits that tagged JSON stores.
func (u UUID) appendHex(b []byte) []byte {
	for _, c := range u {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// ParseUUID accepts both the 32-digit form that tagged JSON stores and the
// canonical hyphenated form that people and Python's str() write, in either
// case, because both reach a session from the outside.
func ParseUUID(s string) (UUID, error) {
	return parseUUIDText(s)
}

func parseUUIDText[T string | []byte](s T) (UUID, error) {
	var u UUID
	switch len(s) {
	case 32:
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return u, ErrBadUUID
		}
	default:
		return u, ErrBadUUID
	}
	j := 0
	for i := 0; i < 16; i++ {
		if len(s) == 36 && (j == 8 || j == 13 || j == 18 || j == 23) {
			j++
		}
		hi, ok1 := unhex(s[j])
		lo, ok2 := unhex(s[j+1])
		if !ok1 || !ok2 {
			return UUID{}, ErrBadUUID
		}
		u[i] = hi<<4 | lo
		j += 2
	}
	return u, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
