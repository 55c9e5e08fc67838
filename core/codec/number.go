package codec

import (
	"encoding/json"
	"math"
)

// Int returns the integer that a decoded value (or a value about to be
// encoded) holds: any Go integer type, a float64 without a fraction, as
// JSON does not tell 1 from 1.0, or a json.Number. ok is false for
// anything else and for integers outside int64.
func Int(x any) (n int64, ok bool) {
	switch v := x.(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case int16:
		return int64(v), true
	case int8:
		return int64(v), true
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint:
		return int64(v), v <= math.MaxInt64
	case uint64:
		return int64(v), v <= math.MaxInt64
	case float64:
		return int64(v), v == math.Trunc(v) && math.Abs(v) < 1<<63
	case json.Number:
		i, err := v.Int64()
		return i, err == nil
	}
	return 0, false
}

// Float returns the number a value holds as a float64: floats, json.Number
// and whatever Int accepts.
func Float(x any) (float64, bool) {
	switch v := x.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	if i, ok := Int(x); ok {
		return float64(i), true
	}
	return 0, false
}
