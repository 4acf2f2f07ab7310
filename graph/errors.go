package graph

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/livestorm"
)

// Error codes of extensions.code: part of the public contract (design.md §4).
const (
	CodeNotFound            = "NOT_FOUND"
	CodeUnauthenticated     = "UNAUTHENTICATED"
	CodeForbidden           = "FORBIDDEN"
	CodeRateLimited         = "RATE_LIMITED"
	CodeQuotaExhausted      = "QUOTA_EXHAUSTED"
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeBadUserInput        = "BAD_USER_INPUT"
	CodeConflict            = "CONFLICT"
	CodeInternal            = "INTERNAL"
	// CodeTimeout: the operation's own deadline (GRAPHQL_TIMEOUT) passed before this
	// field's answer arrived; the fields that finished are in data.
	CodeTimeout = "TIMEOUT"
)

// (CodeUnavailable, "UNAVAILABLE", is also what operations cut short by a shutdown get.)

// ErrOperationTimeout is the cancellation cause of an operation past its deadline.
var ErrOperationTimeout = errors.New("the operation exceeded its time limit")

// ErrShuttingDown is the cancellation cause of operations cut short by a shutdown.
var ErrShuttingDown = errors.New("the gateway is shutting down")

// LimitError is a refusal by one of the gateway's own limits (budgets, rates, the public
// share of the quota): a code, a message for the caller and extra extensions.
type LimitError struct {
	Code       string
	Message    string
	RetryAfter time.Duration
	Extensions map[string]any
}

func (e *LimitError) Error() string { return e.Message }

// GraphQL returns the refusal as a GraphQL error.
func (e *LimitError) GraphQL() *gqlerror.Error {
	_, msg, ext := Classify(e)
	err := gqlerror.Errorf("%s", msg)
	err.Extensions = map[string]any{"code": e.Code}
	for k, v := range ext {
		err.Extensions[k] = v
	}
	return err
}

// interrupted classifies an error caused by the operation's own context ending: its
// deadline (TIMEOUT) or a shutdown (UNAVAILABLE).
func interrupted(ctx context.Context, err error) (code, msg string, ok bool) {
	if ctx == nil || ctx.Err() == nil {
		return "", "", false
	}
	var le *livestorm.Error
	ctxErr := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		(errors.As(err, &le) && (le.Kind == livestorm.KindUnavailable || le.Kind == livestorm.KindUnknown))
	if !ctxErr {
		return "", "", false
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, ErrOperationTimeout):
		return CodeTimeout, "the operation exceeded its time limit before Livestorm answered this field", true
	case errors.Is(cause, ErrShuttingDown):
		return CodeUnavailable, "the gateway is shutting down; retry the operation", true
	}
	return "", "", false
}

// InputError is a caller mistake found before any upstream call.
type InputError struct {
	Field   string // the offending argument or input field path, e.g. "input.email"
	Message string
}

func (e *InputError) Error() string { return e.Message }

func inputError(field, msg string) error { return &InputError{Field: field, Message: msg} }

// ErrorPresenter turns every resolver error into a GraphQL error with a stable
// extensions.code and a message safe to show; errors it does not recognise are logged
// and shown as INTERNAL without details.
func ErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions != nil && gqlErr.Extensions["code"] != nil {
			return gqlErr // parse/validation errors and errors already coded
		}
		code, msg, ext := Classify(err)
		if c, m, ok := interrupted(ctx, err); ok {
			code, msg, ext = c, m, nil
		}
		if code == CodeInternal {
			logger.ErrorContext(ctx, "internal error", "path", gqlErr.Path.String(), "err", err)
		}
		gqlErr.Message = msg
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		gqlErr.Extensions["code"] = code
		for k, v := range ext {
			gqlErr.Extensions[k] = v
		}
		return gqlErr
	}
}

// Classify maps an error to its extensions.code, a message safe to show and extra
// extensions (retryAfter, field).
func Classify(err error) (code, msg string, ext map[string]any) {
	var denied *AccessError
	if errors.As(err, &denied) {
		return denied.code(), denied.Error(), denied.extensions()
	}
	var lim *LimitError
	if errors.As(err, &lim) {
		ext = map[string]any{}
		for k, v := range lim.Extensions {
			ext[k] = v
		}
		if lim.RetryAfter > 0 {
			ext["retryAfter"] = int(math.Ceil(lim.RetryAfter.Seconds()))
		}
		return lim.Code, lim.Message, ext
	}
	var in *InputError
	if errors.As(err, &in) {
		ext = map[string]any{}
		if in.Field != "" {
			ext["field"] = in.Field
		}
		return CodeBadUserInput, in.Message, ext
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return CodeUpstreamUnavailable, "the request was cancelled or timed out", nil
	}
	if errors.Is(err, livestorm.ErrNoCredential) {
		return CodeUnauthenticated, "a Livestorm credential is required: send it in the Authorization header", nil
	}
	var le *livestorm.Error
	if !errors.As(err, &le) {
		if errors.Is(err, livestorm.ErrNotFound) {
			return CodeNotFound, err.Error(), nil
		}
		return CodeInternal, "internal error", nil
	}
	detail := upstreamDetail(le)
	switch le.Kind {
	case livestorm.KindNotFound:
		return CodeNotFound, orDefault(detail, "not found in Livestorm"), nil
	case livestorm.KindUnauthorized:
		return CodeUnauthenticated, "Livestorm rejected the credential", nil
	case livestorm.KindForbidden:
		return CodeForbidden, orDefault(detail, "the credential's scopes do not allow this"), nil
	case livestorm.KindConflict:
		return CodeConflict, orDefault(detail, "already exists"), nil
	case livestorm.KindInvalid:
		return CodeBadUserInput, orDefault(detail, "Livestorm rejected the request as invalid"), nil
	case livestorm.KindRateLimited:
		return CodeRateLimited, "Livestorm's rate limit was reached; retry later", retryAfter(le)
	case livestorm.KindQuotaExhausted:
		return CodeQuotaExhausted, "Livestorm's quota for this workspace is used up", retryAfter(le)
	case livestorm.KindUnavailable:
		return CodeUpstreamUnavailable, "Livestorm is unavailable; retry later", nil
	default:
		return CodeInternal, "internal error", nil
	}
}

func retryAfter(le *livestorm.Error) map[string]any {
	if le.RetryAfter <= 0 {
		return nil
	}
	return map[string]any{"retryAfter": int(math.Ceil(le.RetryAfter.Seconds()))}
}

// upstreamDetail is Livestorm's own explanation (never contains credentials: Livestorm
// describes the request, and the client never echoes the Authorization header).
func upstreamDetail(le *livestorm.Error) string {
	for _, o := range le.Errors {
		if o.Detail != "" {
			return o.Detail
		}
		if o.Title != "" {
			return o.Title
		}
	}
	return ""
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
