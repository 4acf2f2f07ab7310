package telemetry

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// DefaultServiceName is the service.name of the gateway's spans unless OTEL_SERVICE_NAME
// or OTEL_RESOURCE_ATTRIBUTES says otherwise.
const DefaultServiceName = "livestorm-gateway"

// Exporter protocols (OTEL_EXPORTER_OTLP_PROTOCOL).
const (
	ProtocolHTTPProtobuf = "http/protobuf"
	ProtocolHTTPJSON     = "http/json"
	ProtocolGRPC         = "grpc"
)

// Config is the tracing configuration read from the standard OpenTelemetry variables.
// The zero Config is tracing off.
type Config struct {
	// Enabled is true when an OTLP endpoint is configured and neither OTEL_SDK_DISABLED
	// nor OTEL_TRACES_EXPORTER=none turns tracing off.
	Enabled bool
	// Protocol is one of the Protocol* constants.
	Protocol string
	// Endpoint is the exporter's full URL: for HTTP the traces path included
	// (OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces", or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
	// as given); for gRPC the collector's address as given.
	Endpoint string
	// ServiceName is service.name.
	ServiceName string
	// SamplerName is the OTEL_TRACES_SAMPLER value in effect and Sampler the sampler.
	SamplerName string
	Sampler     sdktrace.Sampler
	// Resource are the attributes of OTEL_RESOURCE_ATTRIBUTES (service.name included
	// when set there).
	Resource []attribute.KeyValue
	// Propagators are the OTEL_PROPAGATORS in effect: "tracecontext" and/or "baggage".
	Propagators []string
}

// ParseEnv reads the standard OTEL_* variables through getenv. Every problem is reported
// (joined with errors.Join) as "VARIABLE: what is wrong", so a typo stops the gateway at
// start instead of silently disabling tracing. Variables are validated even when no
// endpoint is set.
//
// Read here: OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER (otlp or none),
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
// OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_SERVICE_NAME,
// OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_RESOURCE_ATTRIBUTES, OTEL_PROPAGATORS.
// The exporter itself still reads OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION,
// _CERTIFICATE (and their _TRACES_ forms), and the batch processor OTEL_BSP_*.
func ParseEnv(getenv func(string) string) (Config, error) {
	var errs []error
	fail := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	env := func(name string) string { return strings.TrimSpace(getenv(name)) }

	c := Config{Protocol: ProtocolHTTPProtobuf, ServiceName: DefaultServiceName}

	protocolVar := "OTEL_EXPORTER_OTLP_PROTOCOL"
	if env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") != "" {
		protocolVar = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	}
	switch p := env(protocolVar); p {
	case "":
	case ProtocolHTTPProtobuf, ProtocolHTTPJSON, ProtocolGRPC:
		c.Protocol = p
	default:
		fail(protocolVar, "must be http/protobuf, http/json or grpc, got %q", p)
	}

	endpointVar, endpoint := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	signalSpecific := endpoint != ""
	if !signalSpecific {
		endpointVar, endpoint = "OTEL_EXPORTER_OTLP_ENDPOINT", env("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			fail(endpointVar, "must be an http:// or https:// URL such as http://otel-collector:4318, got %q", endpoint)
		} else {
			if !signalSpecific && c.Protocol != ProtocolGRPC {
				// The signal-independent endpoint is a base URL: the HTTP exporter posts to
				// its /v1/traces (OpenTelemetry exporter specification).
				u.Path = strings.TrimRight(u.Path, "/") + "/v1/traces"
			}
			c.Endpoint = u.String()
		}
	}

	switch e := strings.ToLower(env("OTEL_TRACES_EXPORTER")); e {
	case "", "otlp", "none":
	default:
		fail("OTEL_TRACES_EXPORTER", "must be otlp or none (the gateway bundles only the OTLP exporter), got %q", e)
	}

	attrs, serviceName, err := parseResourceAttributes(env("OTEL_RESOURCE_ATTRIBUTES"))
	if err != nil {
		fail("OTEL_RESOURCE_ATTRIBUTES", "%v", err)
	}
	c.Resource = attrs
	if serviceName != "" {
		c.ServiceName = serviceName
	}
	if n := env("OTEL_SERVICE_NAME"); n != "" {
		c.ServiceName = n
	}

	c.SamplerName, c.Sampler, err = parseSampler(env("OTEL_TRACES_SAMPLER"), env("OTEL_TRACES_SAMPLER_ARG"))
	if err != nil {
		errs = append(errs, err)
	}

	c.Propagators = []string{"tracecontext", "baggage"}
	if p := env("OTEL_PROPAGATORS"); p != "" {
		c.Propagators = nil
		for _, name := range strings.Split(p, ",") {
			switch name = strings.TrimSpace(strings.ToLower(name)); name {
			case "tracecontext", "baggage":
				c.Propagators = append(c.Propagators, name)
			case "none", "":
			default:
				fail("OTEL_PROPAGATORS", "supported values are tracecontext, baggage and none, got %q", name)
			}
		}
	}

	c.Enabled = c.Endpoint != "" &&
		!strings.EqualFold(env("OTEL_SDK_DISABLED"), "true") &&
		!strings.EqualFold(env("OTEL_TRACES_EXPORTER"), "none")
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// parseSampler builds the sampler of OTEL_TRACES_SAMPLER and its argument, defaulting to
// parentbased_always_on as the specification does. (The SDK reads these variables too,
// but only from the process environment and falls back silently on a bad value.)
func parseSampler(name, arg string) (string, sdktrace.Sampler, error) {
	ratio := func() (float64, error) {
		if arg == "" {
			return 1, nil
		}
		v, err := strconv.ParseFloat(arg, 64)
		if err != nil || v < 0 || v > 1 {
			return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: must be a ratio between 0 and 1 such as 0.25, got %q", arg)
		}
		return v, nil
	}
	switch name = strings.ToLower(name); name {
	case "", "parentbased_always_on":
		return "parentbased_always_on", sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return name, sdktrace.AlwaysSample(), nil
	case "always_off":
		return name, sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return name, sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio":
		r, err := ratio()
		return name, sdktrace.TraceIDRatioBased(r), err
	case "parentbased_traceidratio":
		r, err := ratio()
		return name, sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), err
	default:
		return "", nil, fmt.Errorf("OTEL_TRACES_SAMPLER: must be always_on, always_off, traceidratio, "+
			"parentbased_always_on, parentbased_always_off or parentbased_traceidratio, got %q", name)
	}
}

// parseResourceAttributes reads "key1=value1,key2=value2" (values percent-encoded, per
// the specification) and returns the attributes and the service.name among them.
func parseResourceAttributes(s string) ([]attribute.KeyValue, string, error) {
	if s == "" {
		return nil, "", nil
	}
	var attrs []attribute.KeyValue
	var service string
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, "", fmt.Errorf("entries must be key=value, got %q", pair)
		}
		v, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, "", fmt.Errorf("the value of %q is not percent-encoded correctly", k)
		}
		if k == "service.name" {
			service = v
		}
		attrs = append(attrs, attribute.String(k, v))
	}
	return attrs, service, nil
}
