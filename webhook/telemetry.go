package webhook

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/livestorm-gateway/gateway/telemetry"
)

// Attributes of a delivery's spans. The workspace id and event name say what the
// delivery was about; the payload (names, emails) is never recorded.
const (
	attrWorkspace  = attribute.Key("livestorm.workspace.id")
	attrDeliveryID = attribute.Key("gateway.webhook.delivery_id")
	attrEvicted    = attribute.Key("gateway.cache.evicted")
)

// annotate names the delivery's event, workspace and id on its HTTP request span.
func annotate(ctx context.Context, event, orgID, id string) {
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrWebhookEvent.String(event), attrWorkspace.String(orgID), attrDeliveryID.String(id))
	}
}

func endVerify(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, "invalid or stale signature")
	}
	span.End()
}

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// startProcessing starts the span of the delivery's processing on the receiver's worker:
// a child of its HTTP request span (the request was acknowledged before), so a delivery
// is one trace from receipt to publication. The context carries the request id too.
func (d delivery) startProcessing() (context.Context, trace.Span) {
	ctx := context.Background()
	if d.requestID != "" {
		ctx = telemetry.WithRequestID(ctx, d.requestID)
	}
	if d.span == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	return telemetry.StartAfter(ctx, d.span, "webhook process "+d.ev.Name, trace.WithAttributes(
		telemetry.AttrWebhookEvent.String(d.ev.Name), attrWorkspace.String(d.orgID), attrDeliveryID.String(d.id)))
}

// traceParent is the W3C traceparent of ctx's span, "" when it is not traced.
func traceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}
