package codec

import (
	"errors"
	"fmt"
)

// Gob decodes its streams itself rather than through encoding/gob, which
// would first build a tree of gobNode structs (112 bytes a node, and a
// node can be one byte of input), and which recurses without a bound on
// depth: a level of gobNode costs three bytes, and 4.5 MB of them overflow
// the goroutine stack, a fatal error that recover cannot catch.
//
// It reads a stream twice. check walks it without building anything,
// recursing no deeper than Encode could have nested, and adds up what
// building each value will allocate; decode then builds the values only if
// that total is within the bound. Both read fields through nodeFields, so
// they cannot disagree on what the stream holds.

// maxGobNesting bounds the nesting of structs and slices in the fields
// that gobNode lacks, which check skips: a gobNode at depth d (the session
// itself being depth 0) is a struct at depth 2d+1 and its lists at 2d+2,
// so nothing nests deeper than the lists of the deepest node allowed.
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

// Encode's streams define three types (gobNode, []gobNode and []string)
// with seven fields in all. The bounds are far above that and let the
// type table live in the scanner, without allocating.
const (
	maxGobTypes  = 16
	maxGobFields = 64
)

var errGobMalformed = errors.New("malformed data")

// gobRole says which field of gobNode a field of the stream fills, matched
// by name as encoding/gob matches fields; gobOther is a field that gobNode
// lacks, which is skipped.
type gobRole uint8

const (
	gobOther gobRole = iota
	gobK
	gobS
	gobI
	gobF
	gobB
	gobL
	gobKeys
)

func gobRoleOf(name []byte) gobRole {
	switch string(name) {
	case "K":
		return gobK
	case "S":
		return gobS
	case "I":
		return gobI
	case "F":
		return gobF
	case "B":
		return gobB
	case "L":
		return gobL
	case "Keys":
		return gobKeys
	}
	return gobOther
}

// gobField is a field of a struct type that the stream defines.
type gobField struct {
	id   int64 // its type
	role gobRole
}

// gobWireType is a type that the stream defines: a slice of elem, or a
// struct whose fields are gobScanner.fields[first:first+n].
type gobWireType struct {
	id       int64
	slice    bool
	elem     int64
	first, n int
}

// gobReader reads the gob wire format: unsigned integers in a byte, or a
// negated byte count followed by that many big-endian bytes; signed ones
// with the sign in the low bit; strings and byte slices after their length;
// slices after their length; structs as (field delta, value) pairs ended
// by a zero delta, fields left out when zero.
type gobReader struct {
	msg []byte // the rest of the current message
}

// gobScanner reads a stream with the types it defines.
type gobScanner struct {
	gobReader
	types   [maxGobTypes]gobWireType
	ntypes  int
	fields  [maxGobFields]gobField
	nfields int
}

// check reads the type definitions at the front of b and checks the value
// that follows them, a gobNode, without decoding it. It returns the
// value's message after its type id, the index of its type, and a bound
// on what decode will allocate for it. It reports an error when b is not
// such a stream, or when it nests deeper than Encode could have written;
// it accepts the types that Encode writes (structs, slices and basic
// types) and refuses maps, arrays, interfaces and custom encoders, which
// Gob never writes.
func (s *gobScanner) check(b []byte) (value []byte, root, cost int, err error) {
	for len(b) > 0 {
		n, rest, ok := gobUint(b)
		if !ok || n == 0 || n > uint64(len(rest)) {
			return nil, 0, 0, errGobMalformed
		}
		s.msg, b = rest[:n], rest[n:]
		id, err := s.int()
		if err != nil {
			return nil, 0, 0, err
		}
		if id >= 0 {
			// encoding/gob decodes the first value and ignores the rest.
			root = s.lookup(id)
			if root < 0 || s.types[root].slice {
				return nil, 0, 0, errors.New("session is not a struct")
			}
			if err := s.checkTypes(); err != nil {
				return nil, 0, 0, err
			}
			value = s.msg
			cost, err = s.node(root, 0)
			return value, root, cost, err
		}
		if err := s.typeDef(-id); err != nil {
			return nil, 0, 0, err
		}
	}
	return nil, 0, 0, errGobMalformed
}

// lookup returns the index in s.types of type id, or -1 when the stream
// has not defined it. Types are referred to by index rather than pointer
// so that the scanner does not escape to the heap.
func (s *gobScanner) lookup(id int64) int {
	for i := range s.types[:s.ntypes] {
		if s.types[i].id == id {
			return i
		}
	}
	return -1
}

// fieldsOf returns the fields of struct type t, an index in s.types.
func (s *gobScanner) fieldsOf(t int) []gobField {
	return s.fields[s.types[t].first : s.types[t].first+s.types[t].n]
}

// typeDef reads a message that defines type id: a wireType of which only
// the SliceT (field 1) or StructT (field 2) may be set.
func (s *gobScanner) typeDef(id int64) error {
	if id < gobFirstUserID || s.lookup(id) >= 0 {
		return errGobMalformed
	}
	if s.ntypes == maxGobTypes {
		return errors.New("too many types")
	}
	t := gobWireType{id: id}
	seen := false
	err := s.structFields(func(field int) error {
		if seen {
			return errGobMalformed
		}
		seen = true
		switch field {
		case 1: // sliceType{CommonType, Elem}
			t.slice = true
			return s.structFields(func(field int) error {
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
		case 2: // structType{CommonType, Field []fieldType}
			return s.structFields(func(field int) error {
				switch field {
				case 0:
					return s.skipCommonType()
				case 1:
					return s.fieldTypes(&t)
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
	s.types[s.ntypes] = t
	s.ntypes++
	return nil
}

// fieldTypes reads the fields of struct type t: a []fieldType{Name, Id}.
func (s *gobScanner) fieldTypes(t *gobWireType) error {
	n, err := s.count()
	if err != nil {
		return err
	}
	if n > maxGobFields-s.nfields {
		return errors.New("too many fields")
	}
	t.first, t.n = s.nfields, n
	s.nfields += n
	for i := range n {
		f := &s.fields[t.first+i]
		named := false
		err := s.structFields(func(field int) error {
			switch field {
			case 0:
				name, err := s.bytes()
				f.role = gobRoleOf(name)
				named = len(name) > 0
				return err
			case 1:
				var err error
				f.id, err = s.int()
				return err
			}
			return errGobMalformed
		})
		if err != nil {
			return err
		}
		if !named {
			// encoding/gob refuses a field it cannot match by name.
			return errGobMalformed
		}
	}
	return nil
}

// skipCommonType skips a CommonType{Name string, Id int}.
func (s *gobScanner) skipCommonType() error {
	return s.structFields(func(field int) error {
		switch field {
		case 0:
			_, err := s.bytes()
			return err
		case 1:
			_, err := s.int()
			return err
		}
		return errGobMalformed
	})
}

// checkTypes checks, once the stream has defined its types, that every
// type they refer to is defined, as encoding/gob requires, and that the
// fields which fill gobNode's have the types it would require of them.
func (s *gobScanner) checkTypes() error {
	for _, t := range s.types[:s.ntypes] {
		if t.slice && !s.defined(t.elem) {
			return fmt.Errorf("undefined type %d", t.elem)
		}
	}
	for _, f := range s.fields[:s.nfields] {
		if !s.defined(f.id) {
			return fmt.Errorf("undefined type %d", f.id)
		}
		var ok bool
		switch f.role {
		case gobOther:
			ok = true
		case gobK:
			ok = f.id == gobUintID
		case gobS:
			ok = f.id == gobStringID
		case gobI:
			ok = f.id == gobIntID
		case gobF:
			ok = f.id == gobFloatID
		case gobB:
			ok = f.id == gobBytesID
		case gobL:
			ok = s.nodeList(f.id) >= 0
		case gobKeys:
			t := s.lookup(f.id)
			ok = t >= 0 && s.types[t].slice && s.types[t].elem == gobStringID
		}
		if !ok {
			return fmt.Errorf("a field has type %d, which does not fit gobNode", f.id)
		}
	}
	return nil
}

// defined reports whether type id is a basic type or one the stream
// defines.
func (s *gobScanner) defined(id int64) bool {
	return gobBoolID <= id && id <= gobComplexID || s.lookup(id) >= 0
}

// nodeList returns the element type of slice type id when it is a slice
// of structs, and -1 when it is not.
func (s *gobScanner) nodeList(id int64) int {
	t := s.lookup(id)
	if t < 0 || !s.types[t].slice {
		return -1
	}
	if e := s.lookup(s.types[t].elem); e >= 0 && !s.types[e].slice {
		return e
	}
	return -1
}

// node checks a gobNode of struct type t (an index in s.types) at the
// given depth, and returns what decode will allocate for it and the nodes
// within it. Every node takes at least a byte, so the time spent is
// linear in the input.
func (s *gobScanner) node(t, depth int) (int, error) {
	if depth > maxDepth {
		return 0, ErrTooDeep
	}
	cost := 0
	f, err := s.nodeFields(t, depth, func(elem, n int) error {
		cost += sliceCost(n)
		for range n {
			c, err := s.node(elem, depth+1)
			if err != nil {
				return err
			}
			cost += c
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return cost + f.cost(), nil
}

// gobFields is what the fields of a gobNode hold, but for its list: its
// strings and bytes still in the message, its keys too, to be read once
// the values are decoded.
type gobFields struct {
	k     uint8
	i     int64
	f     uint64 // a float as gob writes it, its bytes reversed
	s, b  []byte
	keys  []byte // Keys as written: a length and its bytes for each key
	nkeys int
}

// nodeFields reads the fields of a gobNode of struct type t, at the given
// depth. For its list, it calls list with the elements' type and number,
// and list must read them.
func (s *gobScanner) nodeFields(t, depth int, list func(elem, n int) error) (gobFields, error) {
	var v gobFields
	fields := s.fieldsOf(t)
	field := -1
	for {
		delta, err := s.uint()
		if err != nil {
			return v, err
		}
		if delta == 0 {
			return v, nil
		}
		if delta > uint64(len(fields)-1-field) {
			return v, errGobMalformed
		}
		field += int(delta)
		f := fields[field]
		switch f.role {
		case gobK:
			v.k, err = s.kind()
		case gobS:
			v.s, err = s.bytes()
		case gobI:
			v.i, err = s.int()
		case gobF:
			v.f, err = s.uint()
		case gobB:
			v.b, err = s.bytes()
		case gobL:
			var n int
			if n, err = s.count(); err == nil {
				err = list(s.nodeList(f.id), n)
			}
		case gobKeys:
			v.keys, v.nkeys, err = s.strings()
		default:
			err = s.value(f.id, 2*depth+1)
		}
		if err != nil {
			return v, err
		}
	}
}

// value skips a value of type id that is depth structs and slices deep.
func (s *gobScanner) value(id int64, depth int) error {
	switch id {
	case gobBoolID, gobIntID, gobUintID, gobFloatID:
		_, err := s.uint()
		return err
	case gobBytesID, gobStringID:
		_, err := s.bytes()
		return err
	case gobComplexID:
		if _, err := s.uint(); err != nil {
			return err
		}
		_, err := s.uint()
		return err
	}
	t := s.lookup(id)
	if t < 0 {
		return fmt.Errorf("unsupported type id %d", id)
	}
	depth++
	if depth > maxGobNesting {
		return ErrTooDeep
	}
	if s.types[t].slice {
		n, err := s.count()
		if err != nil {
			return err
		}
		for range n {
			if err := s.value(s.types[t].elem, depth); err != nil {
				return err
			}
		}
		return nil
	}
	fields := s.fieldsOf(t)
	return s.structFields(func(field int) error {
		if field >= len(fields) {
			return errGobMalformed
		}
		return s.value(fields[field].id, depth)
	})
}

// structFields reads a struct, calling f for each field present, in order.
func (r *gobReader) structFields(f func(field int) error) error {
	field := -1
	for {
		delta, err := r.uint()
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

func (r *gobReader) uint() (uint64, error) {
	x, rest, ok := gobUint(r.msg)
	if !ok {
		return 0, errGobMalformed
	}
	r.msg = rest
	return x, nil
}

func (r *gobReader) int() (int64, error) {
	u, err := r.uint()
	if u&1 != 0 {
		return ^int64(u >> 1), err
	}
	return int64(u >> 1), err
}

// kind reads gobNode's K, a uint8.
func (r *gobReader) kind() (uint8, error) {
	k, err := r.uint()
	if err == nil && k > 255 {
		return 0, errors.New("value kind out of range")
	}
	return uint8(k), err
}

// count reads a length that the rest of the message must be able to hold.
func (r *gobReader) count() (int, error) {
	n, err := r.uint()
	if err != nil || n > uint64(len(r.msg)) {
		return 0, errGobMalformed
	}
	return int(n), nil
}

// bytes reads a string or byte slice, which aliases the message.
func (r *gobReader) bytes() ([]byte, error) {
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	b := r.msg[:n]
	r.msg = r.msg[n:]
	return b, nil
}

// strings reads a []string, and returns it as written and its length.
func (r *gobReader) strings() ([]byte, int, error) {
	n, err := r.count()
	if err != nil {
		return nil, 0, err
	}
	start := r.msg
	for range n {
		if _, err := r.bytes(); err != nil {
			return nil, 0, err
		}
	}
	return start[:len(start)-len(r.msg)], n, nil
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
