package codec

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// gobReference decodes b as Gob.Decode did before it read streams itself:
// through encoding/gob into a gobNode tree, then into Go values. It is the
// oracle for the decoder that replaced it; it must only see streams that
// check accepted, as encoding/gob recurses without bound.
func gobReference(b []byte) (map[string]any, error) {
	var n gobNode
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&n); err != nil {
		return nil, err
	}
	if n.K != gobMap {
		return nil, errors.New("session is not a map")
	}
	v, err := referenceValue(&n)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func referenceList(l []gobNode) ([]any, error) {
	out := make([]any, len(l))
	for i := range l {
		v, err := referenceValue(&l[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func referenceValue(n *gobNode) (any, error) {
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
			return []byte{}, nil
		}
		return n.B, nil
	case gobUUID:
		var u UUID
		if len(n.B) != len(u) {
			return nil, errors.New("bad UUID")
		}
		copy(u[:], n.B)
		return u, nil
	case gobTime:
		var t time.Time
		err := t.UnmarshalBinary(n.B)
		return t, err
	case gobList:
		return referenceList(n.L)
	case gobTuple:
		l, err := referenceList(n.L)
		return Tuple(l), err
	case gobMap:
		if len(n.Keys) != len(n.L) {
			return nil, errors.New("bad map")
		}
		m := make(map[string]any, len(n.Keys))
		for i, k := range n.Keys {
			v, err := referenceValue(&n.L[i])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("unknown value kind %d", n.K)
}

// gobRandomValue returns a value of every kind Gob keeps, nested at most
// depth levels.
func gobRandomValue(r *rand.Rand, depth int) any {
	kinds := 14
	if depth == 0 {
		kinds = 11 // no lists, tuples or maps
	}
	switch r.IntN(kinds) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return strings.Repeat("é", r.IntN(3)) + fmt.Sprint(r.Int())
	case 3:
		return int64(r.Uint64())
	case 4:
		return int64(r.IntN(300))
	case 5:
		return []float64{0, -0.5, math.Inf(-1), math.MaxFloat64, 1e-300}[r.IntN(5)]
	case 6:
		return json.Number("123456789012345678901234567890")
	case 7:
		return []byte(strings.Repeat("\x00\xff", r.IntN(3)))
	case 8:
		return template.HTML("<b>" + fmt.Sprint(r.IntN(9)) + "</b>")
	case 9:
		return UUID{byte(r.IntN(256)), 1, 2}
	case 10:
		offset := []int{0, 3600, -5*3600 - 1800, 5*3600 + 17*60}[r.IntN(4)]
		return time.Unix(r.Int64N(1<<40), r.Int64N(1e9)).In(time.FixedZone("", offset))
	case 11:
		l := make([]any, r.IntN(5))
		for i := range l {
			l[i] = gobRandomValue(r, depth-1)
		}
		return l
	case 12:
		t := make(Tuple, r.IntN(4))
		for i := range t {
			t[i] = gobRandomValue(r, depth-1)
		}
		return t
	default:
		return gobRandomMap(r, depth-1)
	}
}

func gobRandomMap(r *rand.Rand, depth int) map[string]any {
	m := make(map[string]any)
	for range r.IntN(12) {
		m[fmt.Sprint(r.IntN(100))] = gobRandomValue(r, depth)
	}
	return m
}

// gobSame reports whether the decoders agree: the same values, times by
// Equal and offset (a decoded Location is a new one) and floats by their
// bits (NaN is not equal to itself).
func gobSame(a, b any) bool {
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		_, xo := x.Zone()
		_, yo := y.Zone()
		return ok && x.Equal(y) && xo == yo
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !gobSame(x[i], y[i]) {
				return false
			}
		}
		return true
	case Tuple:
		y, ok := b.(Tuple)
		return ok && gobSame([]any(x), []any(y))
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !gobSame(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// gobCompare decodes b with Gob.Decode and with the reference, and fails
// when Decode accepts what the reference refuses or gives another value.
// Decode may refuse more: it does not know gob's internal types, and
// refuses types that no gobNode field uses when they are undefined.
func gobCompare(t *testing.T, b []byte) {
	t.Helper()
	got, err := Gob{}.Decode(b)
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrTooDeep) {
		return // encoding/gob would take too much memory or stack
	}
	want, werr := gobReference(b)
	if err == nil && werr != nil {
		t.Fatalf("Decode(%x) = %v; encoding/gob refuses it: %v", b, got, werr)
	}
	if err == nil && !gobSame(got, want) {
		t.Fatalf("Decode(%x) =\n%#v\nencoding/gob gives\n%#v", b, got, want)
	}
}

// TestGobDecodeMatchesEncodingGob: the decoder reads every session Encode
// writes as encoding/gob did, and every variation of them alike.
func TestGobDecodeMatchesEncodingGob(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		session := gobRandomMap(r, 4)
		b, err := Gob{}.Encode(session)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Gob{}.Decode(b)
		if err != nil || !gobSame(got, session) {
			t.Fatalf("round trip of %#v: %#v, %v", session, got, err)
		}
		gobCompare(t, b)
		for range 20 {
			m := append([]byte(nil), b...)
			for range 1 + r.IntN(3) {
				m[r.IntN(len(m))] = byte(r.IntN(256))
			}
			gobCompare(t, m)
		}
	}
}

// FuzzGobDecode checks the decoder against encoding/gob on any input that
// its check accepts; on the rest, that it fails without crashing.
func FuzzGobDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		b, err := Gob{}.Encode(gobRandomMap(r, 3))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(gobCompare)
}
