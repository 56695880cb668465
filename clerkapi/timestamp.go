package clerkapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// A Timestamp is a point in time that Clerk sends as milliseconds since the Unix
// epoch. The zero Timestamp stands for JSON null ("never" or "not yet").
type Timestamp struct {
	time.Time
}

// At returns the Timestamp for t truncated to the millisecond.
func At(t time.Time) Timestamp {
	if t.IsZero() {
		return Timestamp{}
	}
	return Timestamp{time.UnixMilli(t.UnixMilli())}
}

// MarshalJSON encodes the zero Timestamp as null and any other as integral
// milliseconds since the epoch.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, t.UnixMilli(), 10), nil
}

// UnmarshalJSON decodes null as the zero Timestamp and a JSON number as
// milliseconds since the epoch.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*t = Timestamp{}
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("clerkapi: timestamp is not a number")
	}
	// Reject values that time.UnixMilli cannot represent meaningfully
	// (beyond ±year 292277026596).
	if f > math.MaxInt64/2 || f < math.MinInt64/2 {
		return fmt.Errorf("clerkapi: timestamp out of range")
	}
	*t = Timestamp{time.UnixMilli(int64(f))}
	return nil
}

var _ json.Marshaler = Timestamp{}
