package core

import (
	"iter"
	"maps"

	"github.com/cloakroom/cloakroom/core/codec"
)

// values is a session's data: a map, or, for a session read and not yet
// changed, the list of its keys that the codec decoded. Most requests
// read a few keys and change none; looking them up in a short list costs
// less than building a map of every key would. A change turns the list
// into a map (Session.data).
type values struct {
	m      map[string]any
	fields []codec.Field // at most maxFields, each key once; used only while m is nil
}

// mapValues wraps data, which may be nil.
func mapValues(data map[string]any) values { return values{m: data} }

// lookup returns the value under key.
func (v values) lookup(key string) (any, bool) {
	if v.m != nil {
		x, ok := v.m[key]
		return x, ok
	}
	for i := range v.fields {
		if v.fields[i].Key == key {
			return v.fields[i].Value, true
		}
	}
	return nil, false
}

// get returns the value under key, nil when there is none.
func (v values) get(key string) any {
	x, _ := v.lookup(key)
	return x
}

// len returns the number of keys.
func (v values) len() int {
	if v.m != nil {
		return len(v.m)
	}
	return len(v.fields)
}

// all yields every key and its value.
func (v values) all() iter.Seq2[string, any] {
	if v.m != nil {
		return maps.All(v.m)
	}
	return func(yield func(string, any) bool) {
		for _, f := range v.fields {
			if !yield(f.Key, f.Value) {
				return
			}
		}
	}
}

// asMap returns the data as a map, built from the list when there is
// one.
func (v values) asMap() map[string]any {
	if v.m != nil {
		return v.m
	}
	m := make(map[string]any, len(v.fields)+1) // +1: most changes add a key
	for _, f := range v.fields {
		m[f.Key] = f.Value
	}
	return m
}

// maxFields is the most keys a session keeps in a list: past it, a
// lookup costs more than a map's.
const maxFields = 8

// fieldDecoder is implemented by codecs that can decode a session into a
// list of its keys (codec.TaggedJSON). Such a codec neither modifies b nor
// keeps any of it, so the store may lend it a Lender's bytes.
type fieldDecoder interface {
	DecodeFields(b []byte, dst []codec.Field) ([]codec.Field, error)
}

// decodesFields reports whether m's codec is a fieldDecoder.
func (m *Manager) decodesFields() bool {
	_, ok := m.codec().(fieldDecoder)
	return ok
}

// decode decodes a stored session, into a list in buf when the codec can
// and the session is small.
func (m *Manager) decode(b []byte, buf []codec.Field) (values, error) {
	if fd, ok := m.codec().(fieldDecoder); ok {
		fields, err := fd.DecodeFields(b, buf[:0])
		if err != nil {
			return values{}, err
		}
		v := values{fields: fields}
		if len(fields) > maxFields || repeats(fields) {
			return mapValues(v.asMap()), nil // the map keeps each key's last value
		}
		return v, nil
	}
	data, err := m.codec().Decode(b)
	return mapValues(data), err
}

// repeats reports whether a key appears twice in fields, which are few.
func repeats(fields []codec.Field) bool {
	for i := range fields {
		for j := range i {
			if fields[i].Key == fields[j].Key {
				return true
			}
		}
	}
	return false
}
