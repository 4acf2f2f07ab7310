#!/usr/bin/env bash
# Checks the deployment files: lints and renders the Helm chart with its default values
# and with the multi-replica values (ci/multi-replica-values.yaml), checks every rendered
# document is a Kubernetes object (strictly decoded for the kinds client-go knows) and the
# gateway's Deployment keeps its promises, and that a split-brain configuration is
# refused. Helm is the version pinned in tools/helm/go.mod, built from the Go module
# proxy. Run from anywhere: `bash deploy/check.sh` (CI's "deploy files" step).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chart="$root/deploy/helm/livestorm-gateway"
multi="$chart/ci/multi-replica-values.yaml"
# The Kubernetes version rendered for (the chart needs 1.30+ for the preStop sleep).
kube=1.32.0
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT

echo "building helm and kubecheck (tools/helm/go.mod)"
(cd "$root/tools/helm" && go build -o "$bin/helm" helm.sh/helm/v3/cmd/helm && go build -o "$bin/kubecheck" ./kubecheck)
"$bin/helm" version --short

echo
echo "--- helm lint (default values, multi-replica values)"
"$bin/helm" lint --strict "$chart"
"$bin/helm" lint --strict "$chart" -f "$multi"

echo
echo "--- default values: one replica, chart-made Secret"
"$bin/helm" template gw "$chart" --namespace events --kube-version "$kube" |
	"$bin/kubecheck" -gateway -expect ServiceAccount,Secret,Service,Deployment

echo
echo "--- multi-replica values: Redis, HPA, PDB, Ingress, ServiceMonitor"
"$bin/helm" template gw "$chart" --namespace events --kube-version "$kube" -f "$multi" |
	"$bin/kubecheck" -gateway -expect ServiceAccount,Service,Deployment,HorizontalPodAutoscaler,PodDisruptionBudget,Ingress,ServiceMonitor

echo
echo "--- several replicas without Redis are refused"
if out="$("$bin/helm" template gw "$chart" --kube-version "$kube" --set replicaCount=3 2>&1)"; then
	echo "helm template accepted three replicas without redis.url" >&2
	exit 1
fi
grep -q "needs the Redis tier" <<<"$out" || { echo "unexpected error: $out" >&2; exit 1; }
echo "refused: $(grep -o 'more than one replica.*' <<<"$out")"

echo
echo "deploy files ok"
