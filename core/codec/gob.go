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
// Decode refuses input longer than MaxGobSize, and input that nests deeper
// than Encode could write, before encoding/gob sees it: encoding/gob
// recurses without a depth bound of its own, so that a few megabytes of
// hostile data would crash the process with a stack overflow. It also
// accepts only the shapes Encode writes (structs, slices and basic types,
// no maps, interfaces or custom encoders). Both errors wrap a sentinel,
// ErrTooLarge or ErrTooDeep.
type Gob struct{}

// MaxGobSize is the size in bytes of the largest session Gob encodes or
// decodes. It bounds the work a stored value can cost: encoding/gob holds
// a whole value in memory, several times its encoded size once decoded.
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

// Encode writes data as one gob value.
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
	return buf.Bytes(), nil
}

// Decode reads what Encode wrote. Input longer than MaxGobSize is refused
// unread, with an error wrapping ErrTooLarge; input nested deeper than
// Encode allows, with one wrapping ErrTooDeep.
func (Gob) Decode(b []byte) (map[string]any, error) {
	if len(b) > MaxGobSize {
		return nil, fmt.Errorf("cloakroom: gob: %w: %d bytes, the limit is %d", ErrTooLarge, len(b), MaxGobSize)
	}
	if err := checkGob(b); err != nil {
		return nil, fmt.Errorf("cloakroom: gob: %w", err)
	}
	var n gobNode
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&n); err != nil {
		return nil, fmt.Errorf("cloakroom: gob: %w", err)
	}
	if n.K != gobMap {
		return nil, errors.New("cloakroom: gob: session is not a map")
	}
	v, err := fromGobNode(&n, 0)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
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

func fromGobList(l []gobNode, depth int) ([]any, error) {
	out := make([]any, len(l))
	for i := range l {
		v, err := fromGobNode(&l[i], depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func fromGobNode(n *gobNode, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errGobDepth
	}
	switch n.K {
	case gobNil:
		return nil, nil
	case gobFalse:
		return false, nil
	case gobTrue:
		return true, nil
	case gobString:
		return n.S, nil
	case gobInt:
		return n.I, nil
	case gobNumber:
		return json.Number(n.S), nil
	case gobFloat:
		return n.F, nil
	case gobHTML:
		return template.HTML(n.S), nil
	case gobBytes:
		if n.B == nil {
			return []byte{}, nil // gob does not tell empty from nil
		}
		return n.B, nil
	case gobUUID:
		var u UUID
		if len(n.B) != len(u) {
			return nil, errors.New("cloakroom: gob: bad UUID")
		}
		copy(u[:], n.B)
		return u, nil
	case gobTime:
		var t time.Time
		if err := t.UnmarshalBinary(n.B); err != nil {
			return nil, fmt.Errorf("cloakroom: gob: %w", err)
		}
		return t, nil
	case gobList:
		return fromGobList(n.L, depth)
	case gobTuple:
		l, err := fromGobList(n.L, depth)
		return Tuple(l), err
	case gobMap:
		if len(n.Keys) != len(n.L) {
			return nil, errors.New("cloakroom: gob: bad map")
		}
		m := make(map[string]any, len(n.Keys))
		for i, k := range n.Keys {
			v, err := fromGobNode(&n.L[i], depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("cloakroom: gob: unknown value kind %d", n.K)
}
