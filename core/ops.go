package core

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/cloakroom/cloakroom/core/codec"
)

var (
	// ErrNotInteger is returned by Incr when the key holds something other
	// than an integer.
	ErrNotInteger = errors.New("cloakroom: session value is not an integer")
	// ErrOverflow is returned by Incr when the result does not fit in an
	// int64.
	ErrOverflow = errors.New("cloakroom: integer overflow")
)

// opKind names one kind of change a request makes to its session.
type opKind uint8

const (
	opNone   opKind = iota // Regenerate: no change to the data
	opSet                  // data[key] = value
	opDelete               // delete(data, key)
	opClear                // every application key removed, and the session's own expiry
	opUpdate               // data[key] = fn(data[key])
	opFlash                // value appended to the flashes
	opTake                 // the flashes in value consumed
)

// op is one recorded change. The Manager applies a request's ops again, in
// order, to what another request saved in the meantime, so that neither
// request's changes are lost.
type op struct {
	kind  opKind
	key   string
	value any
	fn    func(old any) (any, error) // opUpdate
}

// apply makes the change on data, the first time, when it cannot fail.
func (o op) apply(data map[string]any) {
	_ = o.reapply(data)
}

// reapply makes the change on data; only an update's function can fail.
func (o op) reapply(data map[string]any) error {
	switch o.kind {
	case opSet:
		data[o.key] = o.value
	case opDelete:
		delete(data, o.key)
	case opClear:
		for k := range data {
			if !bookkeeping(k) || expiryKey(k) {
				delete(data, k)
			}
		}
	case opUpdate:
		v, err := o.fn(data[o.key])
		if err != nil {
			return fmt.Errorf("cloakroom: update of key %q: %w", o.key, err)
		}
		data[o.key] = v
	case opFlash:
		// A new array: data may be a copy of another session's map
		// (a handoff), which must not see this append.
		list, _ := data[keyFlashes].([]any)
		data[keyFlashes] = append(list[:len(list):len(list)], o.value)
	case opTake:
		takeFlashes(data, o.value.([]any))
	}
	return nil
}

// takeFlashes removes from data's flashes the ones in taken, each once, and
// keeps any that another request added since.
func takeFlashes(data map[string]any, taken []any) {
	list, _ := data[keyFlashes].([]any)
	var kept []any
	for _, f := range list {
		if i := indexFlash(taken, f); i >= 0 {
			taken = append(taken[:i:i], taken[i+1:]...)
			continue
		}
		kept = append(kept, f)
	}
	if len(kept) == 0 {
		delete(data, keyFlashes)
		return
	}
	data[keyFlashes] = kept
}

func indexFlash(list []any, f any) int {
	for i, g := range list {
		if reflect.DeepEqual(f, g) {
			return i
		}
	}
	return -1
}

// Update replaces the value under key with fn's result and returns it. fn
// gets the current value, nil when the key is absent. If another request
// saved the session meanwhile, fn runs again on that request's value when
// this one is saved, so read-modify-write changes such as counters compose
// instead of overwriting each other: fn must depend on nothing but old. When
// fn fails, nothing changes and its error is returned; when it fails on the
// re-run, the save fails with that error.
func (s *Session) Update(key string, fn func(old any) (any, error)) (any, error) {
	if Reserved(key) {
		return nil, fmt.Errorf("%w: %q", ErrReservedKey, key)
	}
	s.mu.Lock()
	v, err := fn(s.vals.get(key))
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("cloakroom: update of key %q: %w", key, err)
	}
	s.unlockChanged(op{kind: opUpdate, key: key, fn: fn, value: v})
	return v, nil
}

// Incr adds delta to the integer under key (zero when absent) and returns
// the sum. Concurrent increments of one session by several requests all
// count. It fails with ErrNotInteger or ErrOverflow and changes nothing when
// the key holds another type or the sum does not fit in an int64.
func (s *Session) Incr(key string, delta int64) (int64, error) {
	v, err := s.Update(key, func(old any) (any, error) { return add(old, delta) })
	if err != nil {
		return 0, err
	}
	return v.(int64), nil
}

// IncrNow is Incr that saves the session at once and returns the value
// it stored. The save is conditional like every save: when other requests
// of the session saved meanwhile, the increment applies on top of theirs,
// so that concurrent requests, in this process or any other sharing the
// Backend, never get the same number, as with Redis's INCR. The response
// still sends the session's token; later changes are saved with the
// response as usual.
//
// It fails as Incr does, and as a save does (ErrInterrupted when another
// request deleted the session, ErrBackend, ErrTooLarge); after a failed
// save the increment stays pending and the response's save tries it again.
// A session that lives in its cookie has no store to ask: its IncrNow is
// Incr, and two requests in flight may get the same number, as the last
// cookie sent wins. After the response is committed it fails with
// ErrLateChange and changes nothing.
func (s *Session) IncrNow(ctx context.Context, key string, delta int64) (int64, error) {
	s.mu.Lock()
	sealed := s.sealed
	s.mu.Unlock()
	if sealed {
		return 0, fmt.Errorf("%w (key %q)", ErrLateChange, key)
	}
	n, err := s.Incr(key, delta)
	st, ok := s.m.carrier().(store)
	if err != nil || !ok {
		return n, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := st.write(ctx, s); err != nil {
		return 0, err
	}
	n, _ = codec.Int(s.vals.get(key))
	return n, nil
}

func add(old any, delta int64) (int64, error) {
	n := int64(0)
	if old != nil {
		var ok bool
		if n, ok = codec.Int(old); !ok {
			return 0, ErrNotInteger
		}
	}
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, ErrOverflow
	}
	return n + delta, nil
}

// Flash adds a message to show on a later request. Flask's flash() uses the
// category "message" when none is given.
func (s *Session) Flash(category, message string) {
	s.change(op{kind: opFlash, key: keyFlashes, value: codec.Tuple{category, message}})
}
