package cluster

import (
	"bytes"
	"errors"
	"reflect"
	"time"

	"github.com/golang/snappy"
	"github.com/vmihailenco/msgpack/v5"
)

// codecVersion is the first byte of every encoded answer; a replica of another version
// that reads a value it cannot decode treats it as a miss.
const codecVersion byte = 1

// encode is MessagePack then Snappy: the cached values are the livestorm package's
// structs (a page of 50 session registrants is ~109 KB as JSON, ~82 KB as MessagePack,
// ~17 KB compressed; see TestEncodedSizes). MessagePack keys fields by name, so replicas
// of neighbouring versions read each other's entries, and it keeps what JSON would blur
// (nil vs empty slices, pointers to zero values, times to the nanosecond in UTC); the
// livestorm types' UnmarshalJSON methods, written for Livestorm's wire format, are not
// involved.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(&buf)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	out := make([]byte, 1+snappy.MaxEncodedLen(buf.Len()))
	out[0] = codecVersion
	n := len(snappy.Encode(out[1:], buf.Bytes())) // written in place: out[1:] is large enough
	return out[:1+n], nil
}

// MessagePack decodes times in the process's local zone; the livestorm types hold UTC
// (and tests compare them), so times are decoded back to UTC. The wire format is
// MessagePack's standard timestamp either way.
func init() {
	msgpack.Register(time.Time{},
		func(e *msgpack.Encoder, v reflect.Value) error { return e.EncodeTime(v.Interface().(time.Time)) },
		func(d *msgpack.Decoder, v reflect.Value) error {
			tm, err := d.DecodeTime()
			if err != nil {
				return err
			}
			v.Set(reflect.ValueOf(tm.UTC()))
			return nil
		})
}

var errCodec = errors.New("cluster: value written by another codec version")

// decode reverses encode into v, a pointer.
func decode(data []byte, v any) error {
	if len(data) == 0 || data[0] != codecVersion {
		return errCodec
	}
	raw, err := snappy.Decode(nil, data[1:])
	if err != nil {
		return err
	}
	return msgpack.Unmarshal(raw, v)
}
