package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// decoder is a recursive-descent JSON parser that turns Flask's tags back
// into Go values as it goes, so a session is read in one pass.
//
// Before each allocation it takes from left a bound on what the
// allocation takes (limits.go), and it stops once left is below zero, so
// that what it allocates stays within allocBound of its input whatever
// the input.
type decoder struct {
	data  []byte
	pos   int
	depth int
	plain bool // plain JSON: objects are not untagged

	left int
	// copied is the input as a string, once a string was read from a
	// short one (see text).
	copied string
	// sizes holds the number of members of each array and object, in the
	// order they open, when the input is long enough to count them first;
	// opened is how many have opened so far.
	sizes  []int32
	opened int
}

func unmarshal(b []byte, plain bool) (any, error) {
	d := decoder{data: b, plain: plain, left: valueBudget(len(b))}
	v, err := d.document()
	if err == errOverBudget {
		return nil, errTooCostly(d.codec(), len(b))
	}
	return v, err
}

// errOverBudget is what spend returns, as cheaply as it can; unmarshal
// gives the caller an error that says more.
var errOverBudget = errors.New("over budget")

func (d *decoder) document() (any, error) {
	if len(d.data) > minAllocInput {
		if err := d.countMembers(); err != nil {
			return nil, err
		}
	}
	d.skipSpace()
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("data after the value")
	}
	return v, nil
}

// countMembers counts the members of every array and object in the input
// before decoding, so that each is allocated once at its size: grown as
// it is read, a list takes up to four times its size and a map up to 192
// bytes an entry, which a long input of small members would have refused.
// Inputs no longer than minAllocInput are not counted: their bound is
// that of minAllocInput anyway, and counting would slow small sessions.
func (d *decoder) countMembers() error {
	n := bytes.Count(d.data, []byte("[")) + bytes.Count(d.data, []byte("{"))
	if err := d.spend(allocCost(4 * n)); err != nil {
		return err
	}
	sizes := make([]int32, 0, n)
	var open [maxDepth]int32 // the index in sizes of each one open
	depth := 0
	data := d.data
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if depth == len(open) {
				// Deeper than the decoder goes: it stops before here.
				d.sizes = sizes
				return nil
			}
			open[depth] = int32(len(sizes))
			depth++
			sizes = append(sizes, 1)
		case ']', '}':
			depth = max(depth-1, 0)
		case ',':
			if depth > 0 {
				sizes[open[depth-1]]++
			}
		}
	}
	d.sizes = sizes
	return nil
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("cloakroom: %s: %s at offset %d", d.codec(), fmt.Sprintf(format, args...), d.pos)
}

func (d *decoder) codec() string {
	if d.plain {
		return "JSON"
	}
	return "tagged JSON"
}

func (d *decoder) unexpected() error {
	if d.pos >= len(d.data) {
		return d.errorf("unexpected end of input")
	}
	return d.errorf("unexpected %q", d.data[d.pos])
}

func (d *decoder) skipSpace() {
	// The first test alone settles compact JSON, as Flask and cloakroom
	// write it: a decode skips space some fifteen times per session.
	for d.pos < len(d.data) && d.data[d.pos] <= ' ' {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value() (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.unexpected()
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		s, err := d.str()
		if err == nil && s != "" {
			err = d.spend(stringBox)
		}
		return s, err
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || ('0' <= c && c <= '9') {
			return d.number()
		}
		return nil, d.unexpected()
	}
}

func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.errorf("invalid literal")
	}
	d.pos += len(word)
	return nil
}

// spend records that the decoder is about to allocate what cost bounds,
// and refuses when that would take the values past the budget. It is
// small enough to be inlined: it runs for nearly every value.
func (d *decoder) spend(cost int) error {
	d.left -= cost
	if d.left < 0 {
		return errOverBudget
	}
	return nil
}

// enter steps into the array or object at d.pos, and returns its number
// of members when countMembers has counted them, 0 when not.
func (d *decoder) enter() (size int, err error) {
	d.depth++
	if d.depth > maxDepth {
		return 0, fmt.Errorf("cloakroom: %s: %w (more than %d levels) at offset %d", d.codec(), ErrTooDeep, maxDepth, d.pos)
	}
	if d.opened < len(d.sizes) {
		size = int(d.sizes[d.opened])
	}
	d.opened++
	d.pos++
	d.skipSpace()
	return size, nil
}

func (d *decoder) array() (any, error) {
	size, err := d.enter()
	if err != nil {
		return nil, err
	}
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		if err := d.spend(sliceBox); err != nil {
			return nil, err
		}
		return []any{}, nil
	}
	if size == 0 {
		size = 4
	}
	if err := d.spend(sliceCost(size) + sliceBox); err != nil {
		return nil, err
	}
	list := make([]any, 0, size)
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if len(list) == cap(list) {
			if list, err = d.grow(list); err != nil {
				return nil, err
			}
		}
		list = append(list, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.unexpected()
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			d.depth--
			return list, nil
		default:
			return nil, d.unexpected()
		}
	}
}

// grow doubles list's capacity. append would grow a long list by a
// quarter at a time, leaving behind copies that add up to four times its
// size; doubling keeps them within its size.
func (d *decoder) grow(list []any) ([]any, error) {
	if err := d.spend(sliceCost(2 * cap(list))); err != nil {
		return nil, err
	}
	bigger := make([]any, len(list), 2*cap(list))
	copy(bigger, list)
	return bigger, nil
}

func (d *decoder) object() (any, error) {
	start := d.pos
	size, err := d.enter()
	if err != nil {
		return nil, err
	}
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		if err := d.spend(emptyMapCost); err != nil {
			return nil, err
		}
		return map[string]any{}, nil
	}
	hint := max(size, 8)
	// The first member is held apart so that a tag object, the commonest
	// one-member object, is untagged without building a map.
	var (
		m         map[string]any
		firstKey  string
		firstVal  any
		nmembers  int
		separator byte
	)
	for {
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
		if nmembers == 0 && d.atTextTag(k) {
			var whole bool
			if v, whole, err = d.textTag(start, k); whole || err != nil {
				return v, err
			}
		} else if v, err = d.value(); err != nil {
			return nil, err
		}
		switch nmembers {
		case 0:
			firstKey, firstVal = k, v
		case 1:
			if err := d.spend(mapCost(hint, 2)); err != nil {
				return nil, err
			}
			m = make(map[string]any, hint)
			m[firstKey] = firstVal
			m[k] = v
			firstVal = nil
		default:
			if nmembers >= hint { // the map had room for the others
				if err := d.spend(mapCost(hint, nmembers+1) - mapCost(hint, nmembers)); err != nil {
					return nil, err
				}
			}
			m[k] = v
		}
		nmembers++
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.unexpected()
		}
		separator = d.data[d.pos]
		if separator == '}' {
			d.pos++
			break
		}
		if separator != ',' {
			return nil, d.unexpected()
		}
		d.pos++
		d.skipSpace()
	}
	d.depth--
	if m == nil {
		if !d.plain && isTag(firstKey) {
			return d.untag(start, firstKey, firstVal)
		}
		if err := d.spend(mapCost(0, 1)); err != nil {
			return nil, err
		}
		return map[string]any{firstKey: firstVal}, nil
	}
	if !d.plain && len(m) == 1 { // duplicate keys: the last one wins, as in Python
		for k, v := range m {
			if isTag(k) {
				return d.untag(start, k, v)
			}
		}
	}
	return m, nil
}

// atTextTag reports whether the first member of an object, whose key is
// k, is most likely a text tag: textTag reads its value then.
func (d *decoder) atTextTag(k string) bool {
	return !d.plain && isTextTag(k) && d.pos < len(d.data) && d.data[d.pos] == '"'
}

// textTag reads the string value of the first member of the object that
// opened at start, whose key k is a text tag. When the object ends there
// it is the tag's (whole): v is the tag's value, converted straight from
// the input, without making a string of the text first. Otherwise v is
// the string, an ordinary member's value.
func (d *decoder) textTag(start int, k string) (v any, whole bool, err error) {
	raw, err := d.strBytes()
	if err != nil {
		return nil, false, err
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		v, err := untagText(d, start, k, raw)
		return v, true, err
	}
	if err := d.spend(allocCost(len(raw)) + stringBox); err != nil {
		return nil, false, err
	}
	return string(raw), false, nil
}

// untag turns a one-member object whose key is a tag into the value it
// stands for, as Flask's TaggedJSONSerializer.untag does. Members are
// untagged before their object, as with Python's object_hook.
func (d *decoder) untag(at int, tag string, v any) (any, error) {
	bad := func(want string) error {
		d.pos = at
		return d.errorf("tag %q needs %s", tag, want)
	}
	if tag == tagTuple {
		l, ok := v.([]any)
		if !ok {
			return nil, bad("a list")
		}
		if err := d.spend(sliceBox); err != nil {
			return nil, err
		}
		return Tuple(l), nil
	}
	if tag == tagDict {
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return nil, bad("a one-member object")
		}
		var k string
		for k = range m {
		}
		if !strings.HasSuffix(k, "__") {
			return nil, bad(`a key ending in "__"`)
		}
		if err := d.spend(mapCost(0, 1)); err != nil {
			return nil, err
		}
		return map[string]any{k[:len(k)-2]: m[k]}, nil
	}
	s, ok := v.(string)
	if !ok {
		d.pos = at
		return nil, d.errorf("tag %q needs a string", tag)
	}
	return untagText(d, at, tag, s)
}

func isTextTag(k string) bool {
	return k == tagBytes || k == tagMarkup || k == tagUUID || k == tagDateTime
}

// untagText decodes the text of a " b", " m", " u" or " d" tag, either
// from a string or straight from the input. What it allocates is bounded
// as if s had to be converted, whichever type it has.
func untagText[T string | []byte](d *decoder, at int, tag string, s T) (any, error) {
	bad := func(want string) error {
		d.pos = at
		return d.errorf("tag %q needs %s", tag, want)
	}
	if err := d.spend(textTagCost(tag, len(s))); err != nil {
		return nil, err
	}
	switch tag {
	case tagBytes:
		b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
		n, err := base64.StdEncoding.Decode(b, []byte(s))
		if err != nil {
			return nil, bad("standard base64")
		}
		return b[:n], nil
	case tagMarkup:
		return template.HTML(s), nil
	case tagUUID:
		u, err := parseUUIDText(s)
		if err != nil {
			return nil, bad("a UUID")
		}
		return u, nil
	default: // tagDateTime
		t, err := parseTime(string(s))
		if err != nil {
			return nil, bad("a date")
		}
		return t, nil
	}
}

// textTagCost bounds what untagText allocates for a tag with n bytes of
// text.
func textTagCost(tag string, n int) int {
	switch tag {
	case tagBytes:
		return allocCost(n) + allocCost(base64.StdEncoding.DecodedLen(n)) + sliceBox
	case tagMarkup:
		return allocCost(n) + stringBox
	case tagUUID:
		return uuidBox
	}
	return allocCost(n) + timeCost
}

// key reads an object key. Tag keys come back as constants, so that the
// many tag objects in a session cost no string each.
func (d *decoder) key() (string, error) {
	data, p := d.data, d.pos
	if p+3 < len(data) && data[p+1] == ' ' {
		if data[p+3] == '"' {
			var k string
			switch data[p+2] {
			case 't':
				k = tagTuple
			case 'b':
				k = tagBytes
			case 'm':
				k = tagMarkup
			case 'u':
				k = tagUUID
			case 'd':
				k = tagDateTime
			}
			if k != "" {
				d.pos = p + 4
				return k, nil
			}
		} else if p+4 < len(data) && data[p+2] == 'd' && data[p+3] == 'i' && data[p+4] == '"' {
			d.pos = p + 5
			return tagDict, nil
		}
	}
	if p+1 < len(data) && data[p+1] == '_' {
		if n := bytes.IndexByte(data[p+1:], '"'); n > 0 {
			if k, ok := sessionKey(data[p+1 : p+1+n]); ok {
				d.pos = p + 2 + n
				return k, nil
			}
		}
	}
	return d.str()
}

// sessionKey returns the constant for one of the keys that the core keeps
// in sessions, which nearly every session holds, so that decoding does not
// copy it each time. An escaped key never matches: its bytes hold a
// backslash.
func sessionKey(b []byte) (string, bool) {
	switch string(b) {
	case permanentKey:
		return permanentKey, true
	case "_flashes":
		return "_flashes", true
	case "_created":
		return "_created", true
	case "_addr":
		return "_addr", true
	case "_owner":
		return "_owner", true
	case lifetimeKey:
		return lifetimeKey, true
	case "_idle":
		return "_idle", true
	case deadlineKey:
		return deadlineKey, true
	}
	return "", false
}

// strBytes reads a string like str, but returns its bytes, which alias the
// input when the string has no escapes.
func (d *decoder) strBytes() ([]byte, error) {
	data := d.data
	for i := d.pos + 1; i < len(data); i++ {
		c := data[i]
		if c == '"' {
			b := data[d.pos+1 : i]
			d.pos = i + 1
			return b, nil
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			break
		}
	}
	s, err := d.str()
	if err == nil {
		err = d.spend(allocCost(len(s)))
	}
	return []byte(s), err
}

// str reads a string starting at its opening quote. Strings without
// escapes or non-ASCII bytes, nearly all of them in sessions, are sliced
// out of the input in one step.
func (d *decoder) str() (string, error) {
	data := d.data
	i := d.pos + 1
	for ; i < len(data); i++ {
		c := data[i]
		if c == '"' {
			s, err := d.text(d.pos+1, i)
			d.pos = i + 1
			return s, err
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			break
		}
	}
	return d.strSlow(i)
}

// text returns data[from:to] as a string. The strings of a small input
// share one copy of it, made when the first is read: a session's strings
// then cost one allocation rather than one each. A larger input copies
// each string apart, so that a short string kept by the application does
// not keep the whole input alive.
func (d *decoder) text(from, to int) (string, error) {
	if len(d.data) > maxSharedInput || to-from < 2 {
		// One byte needs no copy: the runtime has every such string.
		if err := d.spend(allocCost(to - from)); err != nil {
			return "", err
		}
		return string(d.data[from:to]), nil
	}
	if d.copied == "" {
		if err := d.spend(allocCost(len(d.data))); err != nil {
			return "", err
		}
		d.copied = string(d.data)
	}
	return d.copied[from:to], nil
}

// maxSharedInput is the longest input whose strings share one copy of it.
const maxSharedInput = 1 << 10

// strSlow reads the rest of a string that has escapes or bytes outside
// ASCII, from data[i], where str stopped. It allocates once: the string's
// bytes, sized by unquotedSize.
func (d *decoder) strSlow(i int) (string, error) {
	data := d.data
	size := unquotedSize(data, d.pos+1)
	if err := d.spend(allocCost(size)); err != nil {
		return "", err
	}
	var buf strings.Builder
	buf.Grow(size)
	buf.Write(data[d.pos+1 : i])
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return buf.String(), nil
		case c == '\\':
			if i+1 >= len(data) {
				d.pos = len(data)
				return "", d.unexpected()
			}
			switch esc := data[i+1]; esc {
			case '"', '\\', '/':
				buf.WriteByte(esc)
			case 'b':
				buf.WriteByte('\b')
			case 'f':
				buf.WriteByte('\f')
			case 'n':
				buf.WriteByte('\n')
			case 'r':
				buf.WriteByte('\r')
			case 't':
				buf.WriteByte('\t')
			case 'u':
				r, ok := hex4(data, i+2)
				if !ok {
					d.pos = i
					return "", d.errorf(`bad \u escape`)
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A high surrogate followed by an escaped low one is one
					// rune; any other surrogate is replaced, as in
					// encoding/json.
					r2, ok := rune(-1), false
					if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						r2, ok = hex4(data, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				buf.WriteRune(r)
				continue
			default:
				d.pos = i
				return "", d.errorf("bad escape")
			}
			i += 2
		case c < ' ':
			d.pos = i
			return "", d.errorf("control character in string")
		case c < utf8.RuneSelf:
			buf.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				buf.WriteString("\uFFFD")
			} else {
				buf.Write(data[i : i+size])
			}
			i += size
		}
	}
	d.pos = len(data)
	return "", d.unexpected()
}

// unquotedSize bounds the length of the string whose contents start at
// data[i], once unquoted: escapes only shrink, and a byte of invalid UTF-8
// grows into the three of U+FFFD.
func unquotedSize(data []byte, i int) int {
	n := 0
	for i < len(data) {
		switch c := data[i]; {
		case c == '"':
			return n
		case c == '\\':
			i += 2
			n += 2
		case c < utf8.RuneSelf:
			i++
			n++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				n += 3
			} else {
				n += size
			}
			i += size
		}
	}
	return n
}

func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		h, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	return r, true
}

// scanNumber returns the end of the JSON number at data[i:] and whether it
// is one; integral numbers are those without fraction or exponent.
func scanNumber(data []byte, i int) (end int, ok bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data):
		return i, false
	case data[i] == '0':
		i++
	case '1' <= data[i] && data[i] <= '9':
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return i, false
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return i, false
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	return i, true
}

func (d *decoder) number() (any, error) {
	start := d.pos
	end, ok := scanNumber(d.data, start)
	if !ok {
		d.pos = end
		return nil, d.errorf("malformed number")
	}
	d.pos = end
	lit := d.data[start:end]
	integral := true
	for _, c := range lit {
		if c == '.' || c == 'e' || c == 'E' {
			integral = false
			break
		}
	}
	if integral {
		if n, ok := parseInt64(lit); ok {
			if uint64(n) >= 256 { // smaller ones go in an interface for free
				if err := d.spend(scalarBox); err != nil {
					return nil, err
				}
			}
			return n, nil
		}
		if err := d.spend(allocCost(len(lit)) + stringBox); err != nil {
			return nil, err
		}
		return json.Number(lit), nil
	}
	cost := allocCost(len(lit)) + scalarBox
	if mayOverflow(lit) {
		// ParseFloat's error, a 48-byte NumError with a copy of the text,
		// and the json.Number kept instead.
		cost += 64 + 2*allocCost(len(lit)) + stringBox
	}
	if err := d.spend(cost); err != nil {
		return nil, err
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		// Out of float64 range: kept as written rather than turned into
		// an infinity that could not be written back.
		return json.Number(lit), nil
	}
	return f, nil
}

// parseInt64 parses an integral number that scanNumber has accepted, and
// reports false when it is outside int64, without the error value that
// strconv would allocate.
func parseInt64(lit []byte) (int64, bool) {
	digits, neg := lit, false
	if digits[0] == '-' {
		digits, neg = digits[1:], true
	}
	if len(digits) > 19 { // JSON has no leading zeros
		return 0, false
	}
	var u uint64 // 19 digits fit
	for _, c := range digits {
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// mayOverflow reports whether the number that scanNumber accepted as lit
// may be beyond float64, whose largest value is below 1e309: only then
// does ParseFloat fail.
func mayOverflow(lit []byte) bool {
	mant, exp := lit, []byte(nil)
	if i := bytes.IndexAny(lit, "eE"); i >= 0 {
		mant, exp = lit[:i], lit[i+1:]
	}
	mant = bytes.TrimPrefix(mant, []byte("-"))
	whole := len(mant) // digits before the point
	if i := bytes.IndexByte(mant, '.'); i >= 0 {
		whole = i
	}
	if len(exp) == 0 {
		return whole > 308
	}
	if exp[0] == '-' {
		return whole > 308 // cannot grow the number
	}
	exp = bytes.TrimPrefix(exp, []byte("+"))
	if len(exp) > 4 {
		return true
	}
	e := 0
	for _, c := range exp {
		e = e*10 + int(c-'0')
	}
	return whole+e > 308
}
