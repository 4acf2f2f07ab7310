package model

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalDateTime writes t as RFC 3339 in UTC. The zero time, which is how the client
// decodes Livestorm's "0 = has not happened", is written as null; that is why every
// DateTime field of the schema is nullable.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339)))
	})
}

// UnmarshalDateTime accepts an RFC 3339 string (what MarshalDateTime writes) or Unix
// seconds as an integer, which is what people copying values from Livestorm paste.
func UnmarshalDateTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("DateTime must be RFC 3339, e.g. 2026-01-31T09:00:00Z: %q", v)
		}
		return t, nil
	case int:
		return time.Unix(int64(v), 0).UTC(), nil
	case int64:
		return time.Unix(v, 0).UTC(), nil
	case float64:
		return time.Unix(int64(v), 0).UTC(), nil
	case interface{ Int64() (int64, error) }: // json.Number
		n, err := v.Int64()
		if err != nil {
			return time.Time{}, fmt.Errorf("DateTime as a number must be Unix seconds: %v", v)
		}
		return time.Unix(n, 0).UTC(), nil
	default:
		return time.Time{}, fmt.Errorf("DateTime must be an RFC 3339 string, got %T", v)
	}
}
