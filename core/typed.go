package core

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/core/codec"
)

// GetString returns the string under key; ok is false when the key is
// absent or holds another type.
func (s *Session) GetString(key string) (v string, ok bool) {
	x, _ := s.Get(key)
	v, ok = x.(string)
	return v, ok
}

// GetInt returns the integer under key, whichever integer type was stored
// and also from a float with no fractional part, as JSON does not tell them
// apart.
func (s *Session) GetInt(key string) (int64, bool) {
	x, _ := s.Get(key)
	return codec.Int(x)
}

// GetFloat returns the number under key as a float64.
func (s *Session) GetFloat(key string) (float64, bool) {
	x, _ := s.Get(key)
	return codec.Float(x)
}

// GetBool returns the boolean under key.
func (s *Session) GetBool(key string) (v bool, ok bool) {
	x, _ := s.Get(key)
	v, ok = x.(bool)
	return v, ok
}

// GetBytes returns the byte slice under key.
func (s *Session) GetBytes(key string) (v []byte, ok bool) {
	x, _ := s.Get(key)
	v, ok = x.([]byte)
	return v, ok
}

// GetTime returns the time under key.
func (s *Session) GetTime(key string) (v time.Time, ok bool) {
	x, _ := s.Get(key)
	v, ok = x.(time.Time)
	return v, ok
}

// Get returns the value under key as a T. A value already of type T is
// returned as is; anything else, such as the map a struct was stored as,
// is converted through its JSON form. It returns an error wrapping ErrNoKey
// when the key is absent.
func Get[T any](s *Session, key string) (T, error) {
	var t T
	x, ok := s.Get(key)
	if !ok {
		return t, fmt.Errorf("%w: %q", ErrNoKey, key)
	}
	if v, ok := x.(T); ok {
		return v, nil
	}
	b, err := json.Marshal(x)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil {
		return t, fmt.Errorf("cloakroom: session key %q as %T: %w", key, t, err)
	}
	return t, nil
}
