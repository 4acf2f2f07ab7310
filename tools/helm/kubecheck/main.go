// Command kubecheck reads rendered manifests (`helm template` output) on stdin and
// checks that every document is a Kubernetes object: apiVersion, kind and a valid
// metadata.name, and, for the kinds client-go knows, a strict decode into the typed
// object (an unknown or misspelt field fails). With -gateway it also checks the
// gateway's Deployment keeps the chart's promises: non-root, read-only root filesystem,
// resource requests and limits, /healthz and /readyz probes, a grace period longer than
// the preStop pause plus the shutdown timeout, and credentials from a Secret.
//
//	helm template r deploy/helm/livestorm-gateway | kubecheck -expect Deployment,Service -gateway
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// shutdownTimeout is the gateway's longest shutdown timeout (SHUTDOWN_TIMEOUT's default).
const shutdownTimeout = 15 * time.Second

func main() {
	expect := flag.String("expect", "", "comma-separated kinds that must be present")
	gateway := flag.Bool("gateway", false, "check the gateway Deployment's settings")
	flag.Parse()
	objs, err := check(os.Stdin, os.Stdout)
	if err == nil && *expect != "" {
		err = expectKinds(objs, strings.Split(*expect, ","))
	}
	if err == nil && *gateway {
		err = checkGateway(objs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubecheck:", err)
		os.Exit(1)
	}
}

type object struct {
	kind, name string
	typed      any
}

func check(r io.Reader, out io.Writer) ([]object, error) {
	strict := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var objs []object
	for i := 1; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, fmt.Errorf("document %d is not YAML: %w", i, err)
		}
		gvk := u.GroupVersionKind()
		name := u.GetName()
		switch {
		case u.GetAPIVersion() == "" || gvk.Kind == "":
			return nil, fmt.Errorf("document %d has no apiVersion or kind", i)
		case name == "":
			return nil, fmt.Errorf("document %d (%s) has no metadata.name", i, gvk.Kind)
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return nil, fmt.Errorf("%s %q: invalid name: %s", gvk.Kind, name, strings.Join(errs, "; "))
		}
		how := "structure only: not a kind client-go knows"
		var typed any
		if scheme.Scheme.Recognizes(gvk) {
			obj, _, err := strict.Decode(doc, nil, nil)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", gvk.Kind, name, err)
			}
			typed, how = obj, "strict decode"
		}
		fmt.Fprintf(out, "ok  %-32s %-24s %s (%s)\n", u.GetAPIVersion(), gvk.Kind, name, how)
		objs = append(objs, object{kind: gvk.Kind, name: name, typed: typed})
	}
	if len(objs) == 0 {
		return nil, errors.New("no manifests on stdin")
	}
	return objs, nil
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func expectKinds(objs []object, kinds []string) error {
	var have []string
	for _, o := range objs {
		have = append(have, o.kind)
	}
	for _, k := range kinds {
		if !slices.Contains(have, strings.TrimSpace(k)) {
			return fmt.Errorf("no %s among the rendered kinds %v", k, have)
		}
	}
	return nil
}

func checkGateway(objs []object) error {
	var d *appsv1.Deployment
	for _, o := range objs {
		if dep, ok := o.typed.(*appsv1.Deployment); ok {
			d = dep
		}
	}
	if d == nil {
		return errors.New("no Deployment")
	}
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		return fmt.Errorf("Deployment %s: want one container, have %d", d.Name, len(spec.Containers))
	}
	c := spec.Containers[0]
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if psc := spec.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		fail("the pod must run as non-root")
	}
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		fail("the root filesystem must be read-only")
	} else if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		fail("privilege escalation must be off")
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			fail("no %s request", r)
		}
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		fail("no memory limit")
	}
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path {
			fail("%s probe must GET %s", name, path)
		}
	}
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("readiness", c.ReadinessProbe, "/readyz")

	var preStop time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	grace := 30 * time.Second
	if spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	}
	if grace <= preStop+shutdownTimeout {
		fail("terminationGracePeriodSeconds (%s) must exceed the preStop pause (%s) plus the shutdown timeout (%s)", grace, preStop, shutdownTimeout)
	}

	fromSecret := false
	for _, e := range c.EnvFrom {
		fromSecret = fromSecret || (e.SecretRef != nil && e.SecretRef.Name != "")
	}
	if !fromSecret {
		fail("credentials must come from a Secret (envFrom)")
	}
	for _, e := range c.Env {
		switch e.Name {
		case "LIVESTORM_API_TOKEN", "LIVESTORM_WEBHOOK_SECRET", "AUTH_JWT_SECRET":
			if e.Value != "" {
				fail("%s must come from the Secret, not a plain value", e.Name)
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("Deployment %s:\n  %s", d.Name, strings.Join(problems, "\n  "))
	}
	fmt.Printf("ok  Deployment %s: non-root, read-only root, requests/limits, probes, grace %s > %s + %s, credentials from a Secret\n",
		d.Name, grace, preStop, shutdownTimeout)
	return nil
}
