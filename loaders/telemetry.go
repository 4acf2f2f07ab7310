package loaders

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/livestorm-gateway/gateway/telemetry"
)

// Attributes of a loader batch's span ("loader sessionPeoplePage").
const (
	attrLoaderResource = attribute.Key("gateway.loader.resource")
	attrLoaderKeys     = attribute.Key("gateway.loader.keys")
	attrLoaderErrors   = attribute.Key("gateway.loader.errors")
)

// batchStats counts how the keys of one loader batch were answered. A hit is a key
// answered without a fetch of this operation's own: from the shared cache, or by joining
// a fetch another operation had in flight; a miss fetched from Livestorm. Keys that failed are also counted as errors.
type batchStats struct {
	hits, misses, errors atomic.Int32
}

func (s *batchStats) record(fetched bool, err error) {
	switch {
	case fetched:
		s.misses.Add(1)
	case err == nil:
		s.hits.Add(1)
	}
	if err != nil {
		s.errors.Add(1)
	}
}

// end adds the batch's lookups to the operation's cost and ends its span.
func (s *batchStats) end(ctx context.Context, span trace.Span) {
	hits, misses, errs := int(s.hits.Load()), int(s.misses.Load()), int(s.errors.Load())
	telemetry.OperationFrom(ctx).AddCache(hits, misses)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(telemetry.AttrCacheHits.Int(hits), telemetry.AttrCacheMisses.Int(misses))
	if errs > 0 {
		span.SetAttributes(attrLoaderErrors.Int(errs))
		span.SetStatus(codes.Error, "some keys failed")
	}
	span.End()
}
