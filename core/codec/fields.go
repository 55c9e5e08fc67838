package codec

import (
	"errors"
	"slices"
)

// A Field is one key of a session and its value.
type Field struct {
	Key   string
	Value any
}

// DecodeFields is Decode that returns the session's keys as a list rather
// than a map: appended to dst in the order b holds them. A key that b
// holds twice is listed twice; Decode keeps the last one. It accepts and
// refuses what Decode does, and allocates within the bound that Decode
// documents. Like Decode, it neither modifies b nor keeps any part of it:
// the values it returns are copies.
//
// A caller that reads a few keys of a small session and changes none, as
// most requests do, spends less looking them up in the list than building
// a map would cost. The core's Manager uses it for that.
func (TaggedJSON) DecodeFields(b []byte, dst []Field) ([]Field, error) {
	d := decoder{data: b, left: valueBudget(len(b))}
	fields, err := d.fieldsDocument(dst)
	if err == errOverBudget {
		return nil, errTooCostly(d.codec(), len(b))
	}
	return fields, err
}

// errNotObject is Decode's error for a document that is not an object.
var errNotObject = errors.New("cloakroom: tagged JSON: session is not an object")

// fieldsDocument is document for a session decoded by DecodeFields: its
// top-level object is read by fields, the rest as document reads it.
func (d *decoder) fieldsDocument(dst []Field) ([]Field, error) {
	if len(d.data) > minAllocInput {
		if err := d.countMembers(); err != nil {
			return nil, err
		}
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		if _, err := d.value(); err != nil {
			return nil, err
		}
		return nil, errNotObject
	}
	fields, err := d.fields(dst)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("data after the value")
	}
	return fields, nil
}

// fields reads the object at d.pos into dst as object reads it into a
// map, and charges the budget what object would: so both accept and
// refuse the same inputs, and the list, which takes less than the map,
// stays within the bound. Its loop repeats object's rather than share
// functions with it: a call or two for each member cost a read about 100
// instructions (callgrind on adapters/nethttp's BenchmarkRead), and
// reading sessions cheaply is what the list is for.
func (d *decoder) fields(dst []Field) ([]Field, error) {
	start, first := d.pos, len(dst)
	size, err := d.enter()
	if err != nil {
		return nil, err
	}
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return dst, d.spend(emptyMapCost)
	}
	hint := max(size, 8)
	if size > cap(dst)-len(dst) {
		dst = append(make([]Field, 0, len(dst)+size), dst...)
	}
	for n := 0; ; n++ {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.unexpected()
		}
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.unexpected()
		}
		d.pos++
		d.skipSpace()
		var v any
		if n == 0 && d.atTextTag(k) {
			var whole bool
			if v, whole, err = d.textTag(start, k); err != nil {
				return nil, err
			}
			if whole {
				return nil, errNotObject // a text tag stands for no map
			}
		} else if v, err = d.value(); err != nil {
			return nil, err
		}
		switch {
		case n == 1:
			err = d.spend(mapCost(hint, 2))
		case n > 1 && n >= hint:
			err = d.spend(mapCost(hint, n+1) - mapCost(hint, n))
		}
		if err != nil {
			return nil, err
		}
		dst = append(dst, Field{k, v})
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.unexpected()
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
			continue
		case '}':
			d.pos++
		default:
			return nil, d.unexpected()
		}
		break
	}
	d.depth--
	return d.untagFields(start, dst, first)
}

// untagFields handles an object whose only key, once duplicates are
// dropped, is a tag, as object does: it stands for the tagged value,
// which is a session only if it is a map (the " di" tag).
func (d *decoder) untagFields(start int, dst []Field, first int) ([]Field, error) {
	members := dst[first:]
	key := members[0].Key
	if len(members) == 1 {
		if !isTag(key) {
			return dst, d.spend(mapCost(0, 1))
		}
	} else if !isTag(key) || slices.ContainsFunc(members, func(f Field) bool { return f.Key != key }) {
		return dst, nil
	}
	v, err := d.untag(start, key, members[len(members)-1].Value)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errNotObject
	}
	dst = dst[:first]
	for k, v := range m {
		dst = append(dst, Field{k, v})
	}
	return dst, nil
}
