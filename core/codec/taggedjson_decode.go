package codec

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// decoder is a recursive-descent JSON parser that turns Flask's tags back
// into Go values as it goes, so a session is read in one pass.
type decoder struct {
	data  []byte
	pos   int
	depth int
	plain bool // plain JSON: objects are not untagged
}

func unmarshal(b []byte, plain bool) (any, error) {
	d := decoder{data: b, plain: plain}
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
	for d.pos < len(d.data) {
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

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return fmt.Errorf("cloakroom: %s: %w (more than %d levels) at offset %d", d.codec(), ErrTooDeep, maxDepth, d.pos)
	}
	d.pos++
	d.skipSpace()
	return nil
}

func (d *decoder) array() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return []any{}, nil
	}
	list := make([]any, 0, 4)
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
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

func (d *decoder) object() (any, error) {
	start := d.pos
	if err := d.enter(); err != nil {
		return nil, err
	}
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return map[string]any{}, nil
	}
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
		if nmembers == 0 && !d.plain && isTextTag(k) && d.pos < len(d.data) && d.data[d.pos] == '"' {
			// Most likely a tag: its text is converted straight from the
			// input, without making a string of it first.
			raw, err := d.strBytes()
			if err != nil {
				return nil, err
			}
			d.skipSpace()
			if d.pos < len(d.data) && d.data[d.pos] == '}' {
				d.pos++
				d.depth--
				return untagText(d, start, k, raw)
			}
			v = string(raw)
		} else if v, err = d.value(); err != nil {
			return nil, err
		}
		switch nmembers {
		case 0:
			firstKey, firstVal = k, v
		case 1:
			m = make(map[string]any, 8)
			m[firstKey] = firstVal
			firstVal = nil
			fallthrough
		default:
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
// from a string or straight from the input.
func untagText[T string | []byte](d *decoder, at int, tag string, s T) (any, error) {
	bad := func(want string) error {
		d.pos = at
		return d.errorf("tag %q needs %s", tag, want)
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
	return d.str()
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
			s := string(data[d.pos+1 : i])
			d.pos = i + 1
			return s, nil
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			break
		}
	}
	return d.strSlow(i)
}

func (d *decoder) strSlow(i int) (string, error) {
	data := d.data
	buf := make([]byte, 0, i-d.pos+16)
	buf = append(buf, data[d.pos+1:i]...)
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(buf), nil
		case c == '\\':
			if i+1 >= len(data) {
				d.pos = len(data)
				return "", d.unexpected()
			}
			switch esc := data[i+1]; esc {
			case '"', '\\', '/':
				buf = append(buf, esc)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
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
				buf = utf8.AppendRune(buf, r)
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
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, "\uFFFD"...)
			} else {
				buf = append(buf, data[i:i+size]...)
			}
			i += size
		}
	}
	d.pos = len(data)
	return "", d.unexpected()
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
		digits, neg := lit, false
		if digits[0] == '-' {
			digits, neg = digits[1:], true
		}
		if len(digits) <= 18 { // cannot overflow
			var n int64
			for _, c := range digits {
				n = n*10 + int64(c-'0')
			}
			if neg {
				n = -n
			}
			return n, nil
		}
		if n, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
			return n, nil
		}
		return json.Number(lit), nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		// Out of float64 range: kept as written rather than turned into
		// an infinity that could not be written back.
		return json.Number(lit), nil
	}
	return f, nil
}
