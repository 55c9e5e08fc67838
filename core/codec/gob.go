package codec

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"strconv"
	"time"
)

// Gob stores sessions with encoding/gob, for deployments where only Go
// reads the store. Unlike the JSON codecs it keeps times to the nanosecond
// with their offset and floats that JSON cannot write (NaN, ±Inf).
//
// Values are copied into a private, interface-free tree before encoding,
// so that no type has to be passed to gob.Register, which would change
// process-wide state. It accepts and returns the same Go types as
// TaggedJSON; other types go through their tagged-JSON form first.
//
// Stored data may hold what a client chose, so Decode bounds what it
// costs: it reads the stream itself instead of through encoding/gob, and
// refuses input longer than MaxGobSize, input that nests deeper than
// Encode could write, and input whose values would take more than 16
// bytes of memory for each byte of it (see Decode). It accepts only the
// shapes Encode writes (structs, slices and basic types, no maps,
// interfaces or custom encoders). Encode refuses to write what Decode
// would refuse.
type Gob struct{}

// MaxGobSize is the size in bytes of the largest session Gob encodes or
// decodes. It bounds the work a stored value can cost: Encode builds the
// whole stream in memory, and Decode up to 16 times its size in values.
// A session this large is a mistake anyway, as it travels to and from the
// store on every request; a Manager's MaxSize, 256 KiB by default, refuses
// it before the codec does.
const MaxGobSize = 1 << 20

// gobNode is one value of the tree Gob stores. Gob writes only the fields
// that are not zero, so each node costs a few bytes.
type gobNode struct {
	K    uint8
	S    string
	I    int64
	F    float64
	B    []byte
	L    []gobNode // list, tuple or map values
	Keys []string  // map keys, matching L
}

const (
	gobNil uint8 = iota
	gobFalse
	gobTrue
	gobString
	gobInt
	gobNumber
	gobFloat
	gobList
	gobTuple
	gobMap
	gobBytes
	gobHTML
	gobUUID
	gobTime
)

// Encode writes data as one gob value. It refuses, with an error wrapping
// ErrTooLarge, a session that Decode would refuse, whose save would
// otherwise succeed and its next load fail.
func (Gob) Encode(data map[string]any) ([]byte, error) {
	if data == nil {
		data = map[string]any{}
	}
	n, err := toGobNode(data, 0)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&n); err != nil {
		return nil, fmt.Errorf("cloakroom: gob: %w", err)
	}
	// Writing what Decode would refuse would lose the session later, on
	// the next request, instead of failing the save now.
	if buf.Len() > MaxGobSize {
		return nil, fmt.Errorf("cloakroom: gob: %w: %d bytes encoded, the limit is %d", ErrTooLarge, buf.Len(), MaxGobSize)
	}
	var s gobScanner
	_, _, cost, err := s.check(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("cloakroom: gob: %w", err)
	}
	if cost > valueBudget(buf.Len()) {
		return nil, errTooCostly("gob", buf.Len())
	}
	return buf.Bytes(), nil
}

// Decode reads what Encode wrote. It allocates at most 16 bytes for each
// byte of b, counting b as 16 KiB when it is shorter (256 KiB is nothing
// to guard), whatever b holds, the error it may return included: input
// whose values would take more is refused before any is built, with an
// error wrapping ErrTooLarge, as is input longer than MaxGobSize. Input
// nested deeper than Encode allows is refused with an error wrapping
// ErrTooDeep.
func (Gob) Decode(b []byte) (map[string]any, error) {
	if len(b) > MaxGobSize {
		return nil, fmt.Errorf("cloakroom: gob: %w: %d bytes, the limit is %d", ErrTooLarge, len(b), MaxGobSize)
	}
	var s gobScanner
	value, root, cost, err := s.check(b)
	if err != nil {
		return nil, fmt.Errorf("cloakroom: gob: %w", err)
	}
	if cost > valueBudget(len(b)) {
		return nil, errTooCostly("gob", len(b))
	}
	s.msg = value
	v, err := s.decode(root, 0)
	if err != nil {
		return nil, fmt.Errorf("cloakroom: gob: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("cloakroom: gob: session is not a map")
	}
	return m, nil
}

var errGobDepth = fmt.Errorf("cloakroom: gob: %w", ErrTooDeep)

func toGobList(l []any, depth int) ([]gobNode, error) {
	nodes := make([]gobNode, len(l))
	for i, v := range l {
		n, err := toGobNode(v, depth+1)
		if err != nil {
			return nil, err
		}
		nodes[i] = n
	}
	return nodes, nil
}

func toGobNode(v any, depth int) (gobNode, error) {
	if depth > maxDepth {
		return gobNode{}, errGobDepth
	}
	switch x := v.(type) {
	case nil:
		return gobNode{}, nil
	case bool:
		if x {
			return gobNode{K: gobTrue}, nil
		}
		return gobNode{K: gobFalse}, nil
	case string:
		return gobNode{K: gobString, S: x}, nil
	case int:
		return gobNode{K: gobInt, I: int64(x)}, nil
	case int64:
		return gobNode{K: gobInt, I: x}, nil
	case int32:
		return gobNode{K: gobInt, I: int64(x)}, nil
	case int16:
		return gobNode{K: gobInt, I: int64(x)}, nil
	case int8:
		return gobNode{K: gobInt, I: int64(x)}, nil
	case uint8:
		return gobNode{K: gobInt, I: int64(x)}, nil
	case uint16:
		return gobNode{K: gobInt, I: int64(x)}, nil
	case uint32:
		return gobNode{K: gobInt, I: int64(x)}, nil
	case uint, uint64, uintptr:
		var u uint64
		switch y := x.(type) {
		case uint:
			u = uint64(y)
		case uint64:
			u = y
		case uintptr:
			u = uint64(y)
		}
		if u > 1<<63-1 { // decoded as TaggedJSON would: json.Number
			return gobNode{K: gobNumber, S: strconv.FormatUint(u, 10)}, nil
		}
		return gobNode{K: gobInt, I: int64(u)}, nil
	case float64:
		return gobNode{K: gobFloat, F: x}, nil
	case float32:
		return gobNode{K: gobFloat, F: float64(x)}, nil
	case json.Number:
		return gobNode{K: gobNumber, S: string(x)}, nil
	case []byte:
		return gobNode{K: gobBytes, B: x}, nil
	case template.HTML:
		return gobNode{K: gobHTML, S: string(x)}, nil
	case UUID:
		return gobNode{K: gobUUID, B: x[:]}, nil
	case time.Time:
		b, err := x.MarshalBinary()
		if err != nil {
			return gobNode{}, fmt.Errorf("cloakroom: gob: %w", err)
		}
		return gobNode{K: gobTime, B: b}, nil
	case []any:
		l, err := toGobList(x, depth)
		return gobNode{K: gobList, L: l}, err
	case Tuple:
		l, err := toGobList(x, depth)
		return gobNode{K: gobTuple, L: l}, err
	case []string:
		l := make([]gobNode, len(x))
		for i, s := range x {
			l[i] = gobNode{K: gobString, S: s}
		}
		return gobNode{K: gobList, L: l}, nil
	case map[string]any:
		n := gobNode{K: gobMap, Keys: make([]string, 0, len(x)), L: make([]gobNode, 0, len(x))}
		for k, v := range x {
			c, err := toGobNode(v, depth+1)
			if err != nil {
				return gobNode{}, err
			}
			n.Keys = append(n.Keys, k)
			n.L = append(n.L, c)
		}
		return n, nil
	case map[string]string:
		n := gobNode{K: gobMap, Keys: make([]string, 0, len(x)), L: make([]gobNode, 0, len(x))}
		for k, s := range x {
			n.Keys = append(n.Keys, k)
			n.L = append(n.L, gobNode{K: gobString, S: s})
		}
		return n, nil
	default:
		// Rare types (structs, other slices and maps, named types) are
		// reduced to the values TaggedJSON would give back for them.
		b, err := MarshalTagged(v)
		if err != nil {
			return gobNode{}, err
		}
		w, err := UnmarshalTagged(b)
		if err != nil {
			return gobNode{}, err
		}
		return toGobNode(w, depth)
	}
}
