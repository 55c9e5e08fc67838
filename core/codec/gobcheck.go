package codec

import (
	"errors"
	"fmt"
)

// encoding/gob decodes nested values by recursion with no bound on the
// depth, and a level of gobNode costs only three bytes of input: 4.5 MB of
// hostile input overflow the goroutine stack (a fatal error, which recover
// cannot catch), and 1 MiB takes seconds and hundreds of megabytes of
// stack. checkGob walks the stream first, recursing no deeper than the
// bound, so that encoding/gob only decodes what nests no deeper than
// Encode could have written.

// maxGobNesting is the deepest nesting of structs and slices that checkGob
// accepts: a gobNode at depth d (the session itself being depth 0) is a
// struct at depth 2d+1 and its lists at 2d+2, and fromGobNode refuses
// nodes deeper than maxDepth, so nothing it would accept is refused here.
const maxGobNesting = 2*maxDepth + 2

// The type ids that encoding/gob gives its basic types on the wire, and
// the first id it gives to others; they are part of the gob format.
const (
	gobBoolID      = 1
	gobIntID       = 2
	gobUintID      = 3
	gobFloatID     = 4
	gobBytesID     = 5
	gobStringID    = 6
	gobComplexID   = 7
	gobFirstUserID = 64
)

var errGobMalformed = errors.New("malformed data")

// gobWireType is what checkGob keeps of a type that the stream defines:
// a slice's element type, or a struct's field types in field order.
type gobWireType struct {
	slice  bool
	elem   int64
	fields []int64
}

// gobScanner reads the gob wire format: unsigned integers in a byte, or a
// negated byte count followed by that many big-endian bytes; signed ones
// with the sign in the low bit; strings and byte slices after their length;
// slices after their length; structs as (field delta, value) pairs ended
// by a zero delta, fields left out when zero.
type gobScanner struct {
	msg   []byte // the rest of the current message
	types map[int64]*gobWireType
}

// checkGob reports an error when b is not a gob stream of type
// definitions followed by a struct value, or when that value nests more
// than maxGobNesting structs and slices deep. It accepts the types that
// Gob.Encode writes (structs, slices and basic types) and refuses maps,
// arrays, interfaces and custom encoders, which Gob never writes.
func checkGob(b []byte) error {
	s := gobScanner{types: make(map[int64]*gobWireType)}
	for len(b) > 0 {
		n, rest, ok := gobUint(b)
		if !ok || n == 0 || n > uint64(len(rest)) {
			return errGobMalformed
		}
		s.msg, b = rest[:n], rest[n:]
		id, err := s.int()
		if err != nil {
			return err
		}
		if id >= 0 {
			// encoding/gob decodes the first value and ignores the rest.
			if t := s.types[id]; t == nil || t.slice {
				return errors.New("session is not a struct")
			}
			return s.value(id, 0)
		}
		if err := s.typeDef(-id); err != nil {
			return err
		}
	}
	return errGobMalformed
}

// typeDef reads a message that defines type id: a wireType of which only
// the SliceT (field 1) or StructT (field 2) may be set.
func (s *gobScanner) typeDef(id int64) error {
	if id < gobFirstUserID || s.types[id] != nil {
		return errGobMalformed
	}
	t := &gobWireType{}
	seen := false
	err := s.fields(func(field int) error {
		if seen {
			return errGobMalformed
		}
		seen = true
		switch field {
		case 1: // sliceType{CommonType, Elem}
			t.slice = true
			return s.fields(func(field int) error {
				switch field {
				case 0:
					return s.skipCommonType()
				case 1:
					var err error
					t.elem, err = s.int()
					return err
				}
				return errGobMalformed
			})
		case 2: // structType{CommonType, Field []fieldType{Name, Id}}
			return s.fields(func(field int) error {
				switch field {
				case 0:
					return s.skipCommonType()
				case 1:
					n, err := s.count()
					if err != nil {
						return err
					}
					t.fields = make([]int64, n)
					for i := range t.fields {
						if err := s.fields(func(field int) error {
							switch field {
							case 0:
								return s.skipString()
							case 1:
								var err error
								t.fields[i], err = s.int()
								return err
							}
							return errGobMalformed
						}); err != nil {
							return err
						}
					}
					return nil
				}
				return errGobMalformed
			})
		}
		return fmt.Errorf("type %d is not a struct or a slice", id)
	})
	if err != nil {
		return err
	}
	if !seen || len(s.msg) != 0 {
		return errGobMalformed
	}
	s.types[id] = t
	return nil
}

// skipCommonType skips a CommonType{Name string, Id int}.
func (s *gobScanner) skipCommonType() error {
	return s.fields(func(field int) error {
		switch field {
		case 0:
			return s.skipString()
		case 1:
			_, err := s.int()
			return err
		}
		return errGobMalformed
	})
}

// value skips a value of type id that is depth structs and slices deep.
// Every element of a slice takes at least a byte, so the time spent is
// linear in the input.
func (s *gobScanner) value(id int64, depth int) error {
	switch id {
	case gobBoolID, gobIntID, gobUintID, gobFloatID:
		_, err := s.uint()
		return err
	case gobBytesID, gobStringID:
		return s.skipString()
	case gobComplexID:
		if _, err := s.uint(); err != nil {
			return err
		}
		_, err := s.uint()
		return err
	}
	t := s.types[id]
	if t == nil {
		return fmt.Errorf("unsupported type id %d", id)
	}
	depth++
	if depth > maxGobNesting {
		return ErrTooDeep
	}
	if t.slice {
		n, err := s.count()
		if err != nil {
			return err
		}
		for range n {
			if err := s.value(t.elem, depth); err != nil {
				return err
			}
		}
		return nil
	}
	return s.fields(func(field int) error {
		if field >= len(t.fields) {
			return errGobMalformed
		}
		return s.value(t.fields[field], depth)
	})
}

// fields reads a struct, calling f for each field present, in order.
func (s *gobScanner) fields(f func(field int) error) error {
	field := -1
	for {
		delta, err := s.uint()
		if err != nil {
			return err
		}
		if delta == 0 {
			return nil
		}
		// No struct has a million fields; the bound keeps field an int.
		if delta > 1<<20 || field+int(delta) > 1<<20 {
			return errGobMalformed
		}
		field += int(delta)
		if err := f(field); err != nil {
			return err
		}
	}
}

func (s *gobScanner) uint() (uint64, error) {
	x, rest, ok := gobUint(s.msg)
	if !ok {
		return 0, errGobMalformed
	}
	s.msg = rest
	return x, nil
}

func (s *gobScanner) int() (int64, error) {
	u, err := s.uint()
	if u&1 != 0 {
		return ^int64(u >> 1), err
	}
	return int64(u >> 1), err
}

// count reads a length that the rest of the message must be able to hold.
func (s *gobScanner) count() (int, error) {
	n, err := s.uint()
	if err != nil || n > uint64(len(s.msg)) {
		return 0, errGobMalformed
	}
	return int(n), nil
}

func (s *gobScanner) skipString() error {
	n, err := s.count()
	if err != nil {
		return err
	}
	s.msg = s.msg[n:]
	return nil
}

// gobUint decodes an unsigned integer at the front of b.
func gobUint(b []byte) (x uint64, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, nil, false
	}
	if b[0] < 0x80 {
		return uint64(b[0]), b[1:], true
	}
	n := -int(int8(b[0]))
	if n > 8 || n >= len(b) {
		return 0, nil, false
	}
	for _, c := range b[1 : 1+n] {
		x = x<<8 | uint64(c)
	}
	return x, b[1+n:], true
}
