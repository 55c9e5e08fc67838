package codec

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// encoder writes JSON as Python's json.dumps does with compact separators,
// tagging the types JSON lacks; common types take a type switch, never
// reflection.
type encoder struct {
	buf   []byte
	keys  []string // a stack of map keys being sorted, shared by nested maps
	depth int
	plain bool // plain JSON: no tags, special types written as strings
}

// encoderPool keeps encoders and their buffers between calls, so that a
// session costs one allocation, its output, once the buffer has grown to fit.
var encoderPool = sync.Pool{New: func() any { return &encoder{buf: make([]byte, 0, 512)} }}

// Encoders whose buffers grew beyond these caps are dropped rather than
// pooled. The byte cap is large enough that sessions of a few hundred KB
// (carts, form drafts) reuse their buffer instead of growing a fresh one by
// doubling, which cost about five times the output for 100 KB; it is small
// enough that the pool, which holds no more encoders than ran at once and
// which the garbage collector empties, keeps little memory.
const (
	maxPooledBuffer = 1 << 20
	maxPooledKeys   = 4096
)

func marshal(v any, plain bool) ([]byte, error) {
	e := encoderPool.Get().(*encoder)
	e.buf, e.keys, e.depth, e.plain = e.buf[:0], e.keys[:0], 0, plain
	err := e.value(v)
	var out []byte
	if err == nil {
		// The one copy: the buffer goes back to the pool, the caller
		// keeps an exactly sized slice.
		out = make([]byte, len(e.buf))
		copy(out, e.buf)
	}
	if cap(e.buf) <= maxPooledBuffer && cap(e.keys) <= maxPooledKeys {
		encoderPool.Put(e)
	}
	return out, err
}

var errEncodeDepth = fmt.Errorf("cloakroom: tagged JSON: %w", ErrTooDeep)

func (e *encoder) open(c byte) error {
	e.depth++
	if e.depth > maxDepth {
		return errEncodeDepth
	}
	e.buf = append(e.buf, c)
	return nil
}

func (e *encoder) close(c byte) {
	e.depth--
	e.buf = append(e.buf, c)
}

// beginTag opens {"<tag>": ; the caller writes the value and closes '}'.
func (e *encoder) beginTag(tag string) error {
	if err := e.open('{'); err != nil {
		return err
	}
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, tag...)
	e.buf = append(e.buf, '"', ':')
	return nil
}

// beginEscape opens {" di":{"<key>__": for a one-key map whose key is a
// tag; the caller writes the value and closes twice.
func (e *encoder) beginEscape(key string) error {
	if err := e.beginTag(tagDict); err != nil {
		return err
	}
	if err := e.open('{'); err != nil {
		return err
	}
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, key...)
	e.buf = append(e.buf, `__":`...)
	return nil
}

func (e *encoder) endEscape() {
	e.close('}')
	e.close('}')
}

func (e *encoder) value(v any) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendString(e.buf, x)
	case bool:
		if x {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int16:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int8:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case uint:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, x, 10)
	case uint32:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint16:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint8:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uintptr:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case float64:
		return e.float(x, 64)
	case float32:
		return e.float(float64(x), 32)
	case json.Number:
		return e.number(x)
	case map[string]any:
		return e.mapAny(x)
	case []any:
		return e.list(x)
	case Tuple:
		if e.plain {
			return e.list(x)
		}
		if err := e.beginTag(tagTuple); err != nil {
			return err
		}
		if err := e.list(x); err != nil {
			return err
		}
		e.close('}')
	case []byte:
		if e.plain {
			e.buf = appendBase64(e.buf, x)
			break
		}
		if err := e.beginTag(tagBytes); err != nil {
			return err
		}
		e.buf = appendBase64(e.buf, x)
		e.close('}')
	case UUID:
		if e.plain {
			e.buf = append(e.buf, '"')
			e.buf = append(e.buf, x.String()...)
			e.buf = append(e.buf, '"')
			break
		}
		if err := e.beginTag(tagUUID); err != nil {
			return err
		}
		e.buf = append(e.buf, '"')
		e.buf = x.appendHex(e.buf)
		e.buf = append(e.buf, '"')
		e.close('}')
	case template.HTML:
		if e.plain {
			e.buf = appendString(e.buf, string(x))
			break
		}
		if err := e.beginTag(tagMarkup); err != nil {
			return err
		}
		e.buf = appendString(e.buf, string(x))
		e.close('}')
	case time.Time:
		return e.time(x)
	case []string:
		if err := e.open('['); err != nil {
			return err
		}
		for i, s := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, s)
		}
		e.close(']')
	case map[string]string:
		return e.mapString(x)
	default:
		return e.reflectValue(v)
	}
	return nil
}

func (e *encoder) list(l []any) error {
	if err := e.open('['); err != nil {
		return err
	}
	for i, v := range l {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(v); err != nil {
			return err
		}
	}
	e.close(']')
	return nil
}

// pushKeys makes room for n keys on the key stack and returns where they
// start; the caller appends them, sorts e.keys[start:] and pops them with
// popKeys.
func (e *encoder) pushKeys(n int) int {
	start := len(e.keys)
	e.keys = slices.Grow(e.keys, n)
	return start
}

func (e *encoder) popKeys(start int) {
	clear(e.keys[start:]) // do not keep session data alive in the pool
	e.keys = e.keys[:start]
}

func (e *encoder) mapAny(m map[string]any) error {
	return encodeMap(e, m, (*encoder).value)
}

func (e *encoder) mapString(m map[string]string) error {
	return encodeMap(e, m, func(e *encoder, s string) error {
		e.buf = appendString(e.buf, s)
		return nil
	})
}

// encodeMap writes m with sorted keys, escaping a one-key map whose key is
// a tag as Flask does; val writes one value.
func encodeMap[V any](e *encoder, m map[string]V, val func(*encoder, V) error) error {
	if len(m) == 1 && !e.plain {
		for k, v := range m {
			if isTag(k) {
				if err := e.beginEscape(k); err != nil {
					return err
				}
				if err := val(e, v); err != nil {
					return err
				}
				e.endEscape()
				return nil
			}
		}
	}
	if err := e.open('{'); err != nil {
		return err
	}
	start := e.pushKeys(len(m))
	for k := range m {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys[start:])
	// Nested maps push above start and pop back to len(e.keys), so the
	// slice is re-read on every step.
	for i := start; i < len(e.keys); i++ {
		if i > start {
			e.buf = append(e.buf, ',')
		}
		k := e.keys[i]
		e.buf = appendString(e.buf, k)
		e.buf = append(e.buf, ':')
		if err := val(e, m[k]); err != nil {
			return err
		}
	}
	e.popKeys(start)
	e.close('}')
	return nil
}

func (e *encoder) float(f float64, bits int) error {
	b, err := appendPyFloat(e.buf, f, bits)
	if err != nil {
		return err
	}
	e.buf = b
	return nil
}

func (e *encoder) number(n json.Number) error {
	s := string(n)
	if s == "" {
		s = "0" // as encoding/json does
	}
	if end, isNum := scanNumber([]byte(s), 0); !isNum || end != len(s) {
		return fmt.Errorf("cloakroom: tagged JSON: invalid json.Number %q", string(n))
	}
	e.buf = append(e.buf, s...)
	return nil
}

func (e *encoder) time(t time.Time) error {
	if e.plain {
		e.buf = append(e.buf, '"')
		e.buf = t.AppendFormat(e.buf, time.RFC3339Nano)
		e.buf = append(e.buf, '"')
		return nil
	}
	if err := e.beginTag(tagDateTime); err != nil {
		return err
	}
	b, err := appendHTTPDate(append(e.buf, '"'), t)
	if err != nil {
		return err
	}
	e.buf = append(b, '"')
	e.close('}')
	return nil
}

var (
	uuidType          = reflect.TypeFor[UUID]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// reflectValue handles the types the switch in value does not know. It is
// the slow path: values are boxed again to go through the switch, so that
// elements of, say, a []time.Time are still tagged.
func (e *encoder) reflectValue(v any) error {
	rv := reflect.ValueOf(v)
	t := rv.Type()
	if t.Kind() == reflect.Array && t.Len() == 16 && t.Elem().Kind() == reflect.Uint8 && t.ConvertibleTo(uuidType) {
		return e.value(rv.Convert(uuidType).Interface())
	}
	if t.Kind() == reflect.Pointer && !rv.IsNil() && (!marshals(t) || marshals(t.Elem())) {
		// Through the switch again, so that a *time.Time or *UUID is
		// tagged; counted as a level so that a pointer cycle ends in an
		// error.
		e.depth++
		if e.depth > maxDepth {
			return errEncodeDepth
		}
		if err := e.value(rv.Elem().Interface()); err != nil {
			return err
		}
		e.depth--
		return nil
	}
	if marshals(t) {
		return e.viaJSON(v)
	}
	switch t.Kind() {
	case reflect.String:
		e.buf = appendString(e.buf, rv.String())
	case reflect.Bool:
		return e.value(rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, rv.Uint(), 10)
	case reflect.Float32:
		return e.float(rv.Float(), 32)
	case reflect.Float64:
		return e.float(rv.Float(), 64)
	case reflect.Pointer, reflect.Interface: // nil; others are handled above
		e.buf = append(e.buf, "null"...)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return e.value(rv.Bytes())
		}
		return e.reflectList(rv)
	case reflect.Array:
		return e.reflectList(rv)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return e.viaJSON(v)
		}
		return e.reflectMap(rv)
	case reflect.Struct:
		return e.viaJSON(v)
	default:
		return fmt.Errorf("cloakroom: tagged JSON: cannot encode %s", t)
	}
	return nil
}

func (e *encoder) reflectList(rv reflect.Value) error {
	if err := e.open('['); err != nil {
		return err
	}
	for i := range rv.Len() {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(rv.Index(i).Interface()); err != nil {
			return err
		}
	}
	e.close(']')
	return nil
}

func (e *encoder) reflectMap(rv reflect.Value) error {
	type entry struct {
		k string
		v any
	}
	entries := make([]entry, 0, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		entries = append(entries, entry{it.Key().String(), it.Value().Interface()})
	}
	if len(entries) == 1 && !e.plain && isTag(entries[0].k) {
		if err := e.beginEscape(entries[0].k); err != nil {
			return err
		}
		if err := e.value(entries[0].v); err != nil {
			return err
		}
		e.endEscape()
		return nil
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.k, b.k) })
	if err := e.open('{'); err != nil {
		return err
	}
	for i, en := range entries {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, en.k)
		e.buf = append(e.buf, ':')
		if err := e.value(en.v); err != nil {
			return err
		}
	}
	e.close('}')
	return nil
}

// marshals reports whether encoding/json would call a method of t to
// encode it.
func marshals(t reflect.Type) bool {
	return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType)
}

// viaJSON encodes v as encoding/json sees it: the JSON is read back as
// plain values, which are then written (and escaped) like any others.
func (e *encoder) viaJSON(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cloakroom: tagged JSON: %w", err)
	}
	x, err := unmarshal(raw, true)
	if err != nil {
		return err
	}
	return e.value(x)
}

// safeASCII marks the bytes Python's json.dumps writes as they are with
// ensure_ascii: printable ASCII except '"' and '\\'.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c <= '~'; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString writes s as Python's json.dumps with ensure_ascii does.
// Invalid UTF-8 becomes U+FFFD, as in encoding/json.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = appendU(b, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b = append(b, s[start:i]...)
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			b = appendU(appendU(b, r1), r2)
		} else {
			b = appendU(b, r) // RuneError is U+FFFD already
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u',
		hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

func appendBase64(b []byte, p []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

// appendPyFloat writes f as Python's repr does: the shortest digits that
// read back to f, in positional notation for decimal exponents from -4 to
// 15 (with ".0" on whole numbers) and scientific notation outside that.
// float32 values get the shortest digits for float32, as in encoding/json.
func appendPyFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("cloakroom: tagged JSON: unsupported float %v", f)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...), nil
		}
		return append(b, "0.0"...), nil
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits) // [-]d[.ddd]e±dd
	ep := 0
	for s[ep] != 'e' {
		ep++
	}
	exp := 0
	for _, c := range s[ep+2:] {
		exp = exp*10 + int(c-'0')
	}
	if s[ep+1] == '-' {
		exp = -exp
	}
	if exp < -4 || exp >= 16 {
		return append(b, s...), nil // Go's 'e' format is Python's here
	}
	mant := s[:ep]
	if mant[0] == '-' {
		b = append(b, '-')
		mant = mant[1:]
	}
	var digits [24]byte
	d := append(digits[:0], mant[0])
	if len(mant) > 2 {
		d = append(d, mant[2:]...)
	}
	if exp < 0 {
		b = append(b, '0', '.')
		for i := -1; i > exp; i-- {
			b = append(b, '0')
		}
		return append(b, d...), nil
	}
	if len(d) <= exp+1 {
		b = append(b, d...)
		for i := len(d); i <= exp; i++ {
			b = append(b, '0')
		}
		return append(b, '.', '0'), nil
	}
	b = append(b, d[:exp+1]...)
	b = append(b, '.')
	return append(b, d[exp+1:]...), nil
}
