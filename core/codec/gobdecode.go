package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"math/bits"
	"time"
)

// decode builds the value of the gobNode of type t that check has read and
// accepted, at the given depth.
func (s *gobScanner) decode(t, depth int) (any, error) {
	var list []any
	f, err := s.nodeFields(t, depth, func(elem, n int) error {
		list = make([]any, n)
		for i := range list {
			v, err := s.decode(elem, depth+1)
			if err != nil {
				return err
			}
			list[i] = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f.value(list)
}

// cost bounds what value allocates, beyond the list that decode has made.
func (f *gobFields) cost() int {
	switch f.k {
	case gobString, gobNumber, gobHTML:
		if len(f.s) > 0 {
			return allocCost(len(f.s)) + stringBox
		}
	case gobInt:
		if uint64(f.i) >= 256 {
			return scalarBox
		}
	case gobFloat:
		return scalarBox
	case gobBytes:
		return allocCost(len(f.b)) + sliceBox
	case gobUUID:
		return uuidBox
	case gobTime:
		return timeCost
	case gobList, gobTuple:
		return sliceBox
	case gobMap:
		c := mapCost(f.nkeys, f.nkeys)
		r := gobReader{msg: f.keys}
		for range f.nkeys {
			k, _ := r.bytes()
			c += allocCost(len(k))
		}
		return c
	}
	return 0
}

// value returns the Go value of a node with fields f and list list, as
// Encode's toGobNode made it.
func (f *gobFields) value(list []any) (any, error) {
	switch f.k {
	case gobNil:
		return nil, nil
	case gobFalse:
		return false, nil
	case gobTrue:
		return true, nil
	case gobString:
		return string(f.s), nil
	case gobInt:
		return f.i, nil
	case gobNumber:
		return json.Number(f.s), nil
	case gobFloat:
		return math.Float64frombits(bits.ReverseBytes64(f.f)), nil
	case gobHTML:
		return template.HTML(f.s), nil
	case gobBytes:
		// A copy, as the input is the caller's; gob does not tell empty
		// from nil, and Encode never writes nil.
		return append([]byte{}, f.b...), nil
	case gobUUID:
		var u UUID
		if len(f.b) != len(u) {
			return nil, errors.New("bad UUID")
		}
		copy(u[:], f.b)
		return u, nil
	case gobTime:
		var t time.Time
		if err := t.UnmarshalBinary(f.b); err != nil {
			return nil, err
		}
		return t, nil
	case gobList:
		if list == nil {
			return []any{}, nil
		}
		return list, nil
	case gobTuple:
		if list == nil {
			return Tuple{}, nil
		}
		return Tuple(list), nil
	case gobMap:
		return f.mapValue(list)
	}
	return nil, fmt.Errorf("unknown value kind %d", f.k)
}

func (f *gobFields) mapValue(values []any) (map[string]any, error) {
	if f.nkeys != len(values) {
		return nil, errors.New("bad map")
	}
	m := make(map[string]any, f.nkeys)
	r := gobReader{msg: f.keys}
	for _, v := range values {
		k, err := r.bytes()
		if err != nil {
			return nil, err
		}
		m[string(k)] = v
	}
	return m, nil
}
